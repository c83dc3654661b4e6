"""Scale regression guard: the work per inventory object stays constant as inventories grow.

No stopwatch: the snapshot's collections are swapped for counting ones, every
rule's check is wrapped in a call counter, the Python lines the lint runs are
counted per source file (``sys.settrace``), and one lint runs at two sizes (4x
apart, same 2% appliance share). Per collection, the number of *passes*
(elements handed out / elements held) must not grow with the inventory; per
source file, neither must the lines run per VM; each rule must be called exactly
once per object of its scope; every inventory index must be built once. A rule
that walks all VMs for each appliance makes the passes over ``vms`` grow with
the number of appliances, and fails here (see the deliberately quadratic rule at
the end). So does one that walks a derived list per appliance, such as every
user of a MAC that hundreds of appliances share (the many-duplicates shape).
"""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import msgspec
import pytest

from scalearc_lint.engine.config import load_config
from scalearc_lint.engine.evaluate import LoadedRule, discover_rules, evaluate
from scalearc_lint.engine.rule import Status
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.loader import dangling_references
from scalearc_lint.snapshot.model import Snapshot
from scalearc_lint.snapshot.synth import SynthSpec, share_one_mac, synthesize
from scalearc_lint.testing import run_rule

#: Whole clusters of synth's 16 hosts x 30 VMs (2 and 8 of them): the inventory grows by
#: more clusters of one shape. Work that grows with the size of one cluster (SA003 reads
#: the portgroup on every host of the appliance's cluster) is bounded by vSphere's
#: cluster maximum, not by the inventory, and is not what this guard is about.
SMALL, LARGE = 960, 3_840
APPLIANCE_SHARE = 0.02
#: Passes at the larger size may differ from the smaller one by the random mix, not by size.
PASS_GROWTH_ALLOWED = 1.2

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


def _counted(label: str, items: Iterable[T], visits: Counter[str]) -> Iterator[T]:
    for item in items:
        visits[label] += 1
        yield item


class CountingDict(dict[K, V]):
    """A dict that counts every element it hands out through iteration."""

    def __init__(self, label: str, data: dict[K, V], visits: Counter[str]) -> None:
        super().__init__(data)
        self.label, self.visits = label, visits

    def __iter__(self) -> Iterator[K]:
        return _counted(self.label, super().__iter__(), self.visits)

    def keys(self) -> Any:
        return _counted(self.label, super().keys(), self.visits)

    def values(self) -> Any:
        return _counted(self.label, super().values(), self.visits)

    def items(self) -> Any:
        return _counted(self.label, super().items(), self.visits)


class CountingList(list[T]):
    """A list that counts every element it hands out through iteration."""

    def __init__(self, label: str, data: Iterable[T], visits: Counter[str]) -> None:
        super().__init__(data)
        self.label, self.visits = label, visits

    def __iter__(self) -> Iterator[T]:
        return _counted(self.label, super().__iter__(), self.visits)


PACKAGE = Path(__file__).resolve().parent.parent / "scalearc_lint"


@dataclasses.dataclass
class WorkProfile:
    """What one lint did: elements visited and held per collection, check calls, index builds,
    Python lines run per source file."""

    visits: Counter[str]
    sizes: Counter[str]
    calls: Counter[str]
    subjects: dict[str, int]
    index_builds: dict[str, int]
    lines: Counter[str]
    vms: int

    def passes(self, label: str) -> float:
        """How many times, on average, each element of the collection was handed out."""
        return self.visits[label] / self.sizes[label] if self.sizes[label] else 0.0

    def lines_per_vm(self, filename: str) -> float:
        """Python lines run in one source file, per VM of the inventory."""
        return self.lines[filename] / self.vms


@contextmanager
def counting_lines(lines: Counter[str], roots: Iterable[Path]) -> Iterator[None]:
    """Count the Python lines run in files under ``roots``, per file: a measure of work
    that a stopwatch-free test can compare across sizes (a loop's every turn counts)."""
    prefixes = tuple(str(root) for root in roots)

    def local(frame: FrameType, event: str, arg: object) -> Any:
        if event == "line":
            lines[frame.f_code.co_filename] += 1
        return local

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename.startswith(prefixes) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        yield
    finally:
        sys.settrace(previous)


def instrument(snapshot: Snapshot, visits: Counter[str], sizes: Counter[str]) -> Snapshot:
    """The same snapshot with its top-level collections, events, vNICs and cluster rules counted."""

    def dict_of(label: str, data: dict[str, Any]) -> CountingDict[str, Any]:
        sizes[label] += len(data)
        return CountingDict(label, data, visits)

    def list_of(label: str, data: list[Any]) -> CountingList[Any]:
        sizes[label] += len(data)
        return CountingList(label, data, visits)

    replace = msgspec.structs.replace
    vms = {moid: replace(vm, nics=list_of("vm nics", vm.nics)) for moid, vm in snapshot.vms.items()}
    clusters = {
        moid: replace(c, rules=list_of("cluster rules", c.rules))
        for moid, c in snapshot.clusters.items()
    }
    hosts = {
        moid: replace(h, portgroups=list_of("host portgroups", h.portgroups))
        for moid, h in snapshot.hosts.items()
    }
    return replace(
        snapshot,
        vms=dict_of("vms", vms),
        clusters=dict_of("clusters", clusters),
        hosts=dict_of("hosts", hosts),
        resource_pools=dict_of("resource_pools", snapshot.resource_pools),
        dv_portgroups=dict_of("dv_portgroups", snapshot.dv_portgroups),
        events=replace(snapshot.events, items=list_of("events", snapshot.events.items)),
    )


def counting_rules(rules: list[LoadedRule], calls: Counter[str]) -> list[LoadedRule]:
    """The rules with each check wrapped in a call counter."""

    def wrap(rule_id: str, check: Any) -> Any:
        def counted_check(subject: object, inventory: Inventory, options: object) -> object:
            calls[rule_id] += 1
            return check(subject, inventory, options)

        return counted_check

    return [
        dataclasses.replace(
            item, rule=dataclasses.replace(item.rule, check=wrap(item.rule.id, item.rule.check))
        )
        for item in rules
    ]


def work_profile(
    vms: int,
    rules: list[LoadedRule],
    shape: Callable[[Snapshot], Snapshot] = lambda snapshot: snapshot,
) -> WorkProfile:
    """Lint a synthetic inventory of ``vms`` VMs (reshaped by ``shape``) with ``rules``,
    counting the work done."""
    spec = SynthSpec(vms, round(vms * APPLIANCE_SHARE), seed=5, violation_rate=0.3)
    snapshot = shape(synthesize(spec))
    roots = {PACKAGE, *(Path(item.rule.check.__code__.co_filename).parent for item in rules)}
    visits: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    counted = instrument(snapshot, visits, sizes)
    assert list(dangling_references(counted)) == []
    inventory = Inventory(counted)
    # The inventory's own derived collections are counted too (rules iterate them).
    for name in ("appliances", "pairs"):
        data = getattr(inventory, name)
        sizes[name] += len(data)
        inventory.__dict__[name] = CountingDict(name, data, visits)
    wrapped = counting_rules(rules, calls)
    config = load_config(None, [item.rule for item in rules])
    lines: Counter[str] = Counter()
    with counting_lines(lines, roots):
        evaluate([inventory], wrapped, config)
    subjects = {item.rule.id: sum(1 for _ in inventory.subjects(item.rule.scope)) for item in rules}
    # Counting the subjects visited the collections once more per rule: take that back out.
    for item in rules:
        label = {"appliance": "appliances", "pair": "pairs"}.get(item.rule.scope, item.rule.scope)
        visits[label] -= subjects[item.rule.id]
    builds = {**inventory.index_builds, **inventory.estate.index_builds}
    return WorkProfile(visits, sizes, calls, subjects, builds, lines, vms)


def assert_constant_work(small: WorkProfile, large: WorkProfile) -> None:
    """Fail, naming the rule or collection, when work per object grows with the inventory."""
    for label in sorted(large.sizes):
        before, after = small.passes(label), large.passes(label)
        assert after <= before * PASS_GROWTH_ALLOWED + 0.05, (
            f"passes over {label} grew from {before:.2f} at {sum(small.sizes.values())} objects "
            f"to {after:.2f} at {sum(large.sizes.values())}: something is quadratic"
        )
    for filename in sorted(large.lines):
        before, after = small.lines_per_vm(filename), large.lines_per_vm(filename)
        assert after <= before * PASS_GROWTH_ALLOWED + 0.05, (
            f"Python lines run in {Path(filename).name} grew from {before:.2f} per VM at "
            f"{small.vms} VMs to {after:.2f} at {large.vms}: something is quadratic"
        )
    for profile in (small, large):
        for rule_id, expected in profile.subjects.items():
            assert profile.calls[rule_id] == expected, (
                f"{rule_id} was called {profile.calls[rule_id]} times for {expected} objects"
            )
        assert set(profile.index_builds.values()) <= {1}, (
            f"an inventory index was built more than once: {profile.index_builds}"
        )


def builtin() -> list[LoadedRule]:
    """The built-in rules only (no plugins from the environment)."""
    return discover_rules(plugins=False)


def test_builtin_rules_do_constant_work_per_object() -> None:
    small, large = work_profile(SMALL, builtin()), work_profile(LARGE, builtin())
    assert_constant_work(small, large)
    # The guard really watched the VMs: two passes checking references on load, one to
    # identify appliances, one for the MAC index, one for the VM reservations held in the
    # appliances' pools (SA007: other VMs' reservations consume the pool's).
    assert large.passes("vms") <= 5, "a new full pass over the VMs: is it needed?"
    assert large.calls["SA001"] == large.sizes["appliances"] > 0


QUADRATIC_RULE = '''
"""A naive rule for the scale guard's own test: scans every VM for each appliance."""

from scalearc_lint.engine.rule import NoOptions, Rule, Severity, failed, passed


def check(appliance, inventory, options):
    """Fail when another VM has the appliance's name (by walking all VMs: quadratic)."""
    same = [vm for vm in inventory.snapshot.vms.values() if vm.name == appliance.vm.name]
    return failed("name reused") if len(same) > 1 else passed("unique name")


RULE = Rule(
    id="QD001",
    name="quadratic-name-check",
    title="Appliance names are unique (naively)",
    severity=Severity.WARNING,
    scope="appliance",
    rationale="Demonstrates what the scale guard catches.",
    reference="none",
    remediation="Use an index built once.",
    check=check,
)
'''


def test_guard_catches_a_quadratic_rule(tmp_path: Path) -> None:
    (tmp_path / "qd001_quadratic.py").write_text(QUADRATIC_RULE)
    rules = discover_rules([tmp_path], builtin=False, plugins=False)
    small, large = work_profile(SMALL, rules), work_profile(LARGE, rules)
    with pytest.raises(AssertionError, match="passes over vms grew"):
        assert_constant_work(small, large)


def test_guard_catches_a_rule_called_twice_per_object() -> None:
    rules = builtin()
    small, large = work_profile(SMALL, rules), work_profile(LARGE, rules)
    large.calls["SA001"] *= 2
    with pytest.raises(AssertionError, match="SA001 was called"):
        assert_constant_work(small, large)


def test_builtin_rules_do_constant_work_when_many_appliances_share_one_mac() -> None:
    small = work_profile(SMALL, builtin(), share_one_mac)
    large = work_profile(LARGE, builtin(), share_one_mac)
    assert_constant_work(small, large)
    # The shape is what it says: every appliance's MAC is on every VM.
    spec = SynthSpec(SMALL, round(SMALL * APPLIANCE_SHARE), seed=5)
    results = run_rule("SA002", share_one_mac(synthesize(spec)))
    assert results and {r.status for r in results} == {Status.FAIL}
    assert all(r.message.endswith(f"and {SMALL - 1 - 5} more") for r in results)


#: SA002 as it was before issue 14: each appliance walks and sorts every user of its MAC.
NAIVE_MAC_RULE = '''
"""SA002 before issue 14, for the scale guard's own test: quadratic on a shared MAC."""

from scalearc_lint.engine.rule import NoOptions, Rule, Severity, failed, passed
from scalearc_lint.snapshot.inventory import normalise_mac


def check(appliance, inventory, options):
    """List every other user of each appliance MAC, sorted, for each appliance."""
    vm = appliance.vm
    clashes = []
    for nic in vm.nics:
        others = [
            ref
            for ref in inventory.nics_by_appliance_mac.get(normalise_mac(nic.mac), [])
            if not (ref.vm.moid == vm.moid and ref.nic_key == nic.key)
        ]
        if others:
            where = ", ".join(sorted(f"{ref.vm.name} ({ref.label})" for ref in others)[:5])
            clashes.append(f"{nic.mac} is also on {where}")
    return failed("; ".join(clashes)) if clashes else passed("unique")


RULE = Rule(
    id="QD002",
    name="naive-mac-unique",
    title="Appliance MACs are unique (naively)",
    severity=Severity.ERROR,
    scope="appliance",
    rationale="Demonstrates what the scale guard catches on the many-duplicates shape.",
    reference="none",
    remediation="Choose the users to name once per MAC.",
    check=check,
)
'''


def test_guard_catches_a_rule_walking_every_user_of_a_shared_mac(tmp_path: Path) -> None:
    (tmp_path / "qd002_naive_mac.py").write_text(NAIVE_MAC_RULE)
    rules = discover_rules([tmp_path], builtin=False, plugins=False)
    small = work_profile(SMALL, rules, share_one_mac)
    large = work_profile(LARGE, rules, share_one_mac)
    with pytest.raises(AssertionError, match=r"lines run in qd002_naive_mac\.py grew"):
        assert_constant_work(small, large)
