"""ID001: the tool's own finding about appliance identification (DESIGN.md).

Two kinds of result, both rule id ``ID001``:

* object kind ``vm``, status ``fail``: a VM the selectors pick up whose role or pair
  cannot be told without guessing — its role attribute and role tag disagree, it
  carries several role or pair values, its role value is not a role, or it names a
  pair but no role. Every result that rests on its identification (the appliance-
  and pair-scoped rules) is ``unknown`` meanwhile; see
  :func:`scalearc_lint.snapshot.inventory.identification_doubt`.
* object kind ``vcenter``, one per vCenter: ``fail`` when no appliance is identified
  there (naming the selectors tried, so a misspelt tag category turns CI red), unless
  ``appliances.none_expected_in`` lists it; else ``pass``, saying how many were found.

The config file may set ID001's severity, and waivers may waive its failures, but it
cannot be disabled: a vCenter where nothing is found would pass silently again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from scalearc_lint.engine.config import Config
from scalearc_lint.engine.results import ObjectRef, Result, RuleInfo
from scalearc_lint.engine.rule import Example, Severity, Status
from scalearc_lint.snapshot.inventory import Inventory

ID001 = RuleInfo(
    id="ID001",
    name="appliance-identification",
    title="Appliances are identified without guessing, in every vCenter that runs them",
    severity=Severity.ERROR,
    scope="vm/vcenter",
    rationale=(
        "Every rule judges an appliance by its role and pair. A VM whose attributes and tags "
        "disagree would otherwise be given a role at random, and a vCenter where a misspelt "
        "tag category or a wrong name pattern matches nothing would pass with nothing checked."
    ),
    reference=(
        "scalearc-lint appliance identification (README, How appliances are identified); "
        "not a vendor rule. The vendor's HA procedures all depend on knowing which appliance "
        "is the HA Primary and which the Secondary."
    ),
    remediation=(
        "Give the VM one role (primary, secondary or standalone) and at most one pair id, "
        "in the custom attribute or the tag category or both, agreeing. For a vCenter with "
        "no appliance found: correct appliances.role_attribute / pair_attribute, name_pattern "
        "or folders in --config, or list the vCenter under appliances.none_expected_in if it "
        "runs no ScaleArc appliance."
    ),
)

#: Why the config file cannot disable ID001.
ALWAYS_ON_REASON = (
    "a vCenter where no appliance is identified would pass with nothing checked; list such a "
    "vCenter under appliances.none_expected_in, or waive a VM's finding in --waivers"
)

_VCENTER = "vcenter.lab.example"  # the vCenter of every example sketch
EXAMPLES = (
    Example(
        "attribute and tag agree; names and values in any case, spaces trimmed",
        {
            "appliances": {
                "sa-p": {
                    "role": "primary",
                    "pair": "p1",
                    "attributes": {"ScaleArc-Role": " Primary ", "scalearc-ha-pair": "P1"},
                    "tags": [{"category": "SCALEARC-ROLE", "name": "primary"}],
                },
                "sa-s": {"role": "secondary", "pair": "p1", "by": "tags"},
            }
        },
        {_VCENTER: Status.PASS},
    ),
    Example(
        "the role attribute says secondary, the role tag says primary",
        {
            "appliances": {
                "sa-1": {
                    "role": "secondary",
                    "pair": "p1",
                    "tags": [{"category": "scalearc-role", "name": "primary"}],
                },
                "sa-2": {"role": "primary", "pair": "p1"},
            }
        },
        {"sa-1": Status.FAIL, _VCENTER: Status.PASS},
    ),
    Example(
        "two role tags",
        {
            "appliances": {
                "sa-1": {
                    "by": "tags",
                    "tags": [
                        {"category": "scalearc-role", "name": "primary"},
                        {"category": "scalearc-role", "name": "secondary"},
                    ],
                }
            }
        },
        {"sa-1": Status.FAIL},
    ),
    Example(
        "two pair ids",
        {
            "appliances": {
                "sa-1": {
                    "role": "primary",
                    "pair": "p1",
                    "tags": [{"category": "scalearc-ha-pair", "name": "p2"}],
                }
            }
        },
        {"sa-1": Status.FAIL},
    ),
    Example(
        "a role value that is not a role",
        {"appliances": {"sa-1": {"role": "secundary", "pair": "p1"}}},
        {"sa-1": Status.FAIL},
    ),
    Example(
        "no appliance found: the tag category is spelt scalearc_role",
        {
            "vms": {
                "proxy-1": {"tags": [{"category": "scalearc_role", "name": "primary"}]},
                "web-1": {},
            }
        },
        {_VCENTER: Status.FAIL},
    ),
    Example(
        "no appliance found where the config says none are expected",
        {"vms": {"web-1": {}}},
        {_VCENTER: Status.PASS},
        appliances={"none_expected_in": [_VCENTER.upper()]},
    ),
)


def identification_results(inventories: Iterable[Inventory], config: Config) -> Iterator[Result]:
    """ID001's results for each of these vCenters."""
    severity = config.settings(ID001).severity
    for inventory in inventories:
        for moid, unsure in inventory.unidentified.items():
            vm = unsure.vm
            yield Result(
                ID001.id,
                Status.FAIL,
                severity,
                ObjectRef("vm", moid, vm.name, inventory.vcenter, vm.instance_uuid),
                f"{unsure.problem}; its appliance and pair results are unknown until its "
                "attributes and tags name one role and at most one pair id",
            )
        yield _vcenter_result(inventory, severity)


def _vcenter_result(inventory: Inventory, severity: Severity) -> Result:
    source = inventory.snapshot.source
    ref = ObjectRef("vcenter", source.vcenter, source.vcenter, source.vcenter, source.instance_uuid)
    selection = inventory.selection
    found = len(inventory.appliances)
    unsure = len(inventory.unidentified)
    expected = selection.expects_appliances(source.vcenter)
    if found or unsure:
        parts = [f"{found} appliance(s) identified by {selection.describe()}"]
        if unsure:
            parts.append(f"{unsure} VM(s) that cannot be identified without guessing")
        if not expected:
            parts.append("although appliances.none_expected_in lists this vCenter")
        return Result(ID001.id, Status.PASS, severity, ref, "; ".join(parts))
    if not expected:
        return Result(
            ID001.id,
            Status.PASS,
            severity,
            ref,
            "no appliance identified, and appliances.none_expected_in says none are expected "
            f"here (looked for {selection.describe()})",
        )
    hints = []
    if selection.by != "name":
        look_alikes = inventory.look_alike_names()
        if look_alikes:
            shown = ", ".join(repr(name) for name in look_alikes[:5])
            more = f" and {len(look_alikes) - 5} more" if len(look_alikes) > 5 else ""
            hints.append(f"attribute names / tag categories seen that look alike: {shown}{more}")
        unread = inventory.identification_unread()
        if unread:
            hints.append(f"the exporter could not read the {' and '.join(unread)}")
    hint = f" ({'; '.join(hints)})" if hints else ""
    return Result(
        ID001.id,
        Status.FAIL,
        severity,
        ref,
        f"no ScaleArc appliance identified among {len(inventory.snapshot.vms)} VM(s): looked "
        f"for {selection.describe()}{hint}. Correct the selectors in --config (appliances:), "
        "or list this vCenter under appliances.none_expected_in if it runs no appliance",
    )
