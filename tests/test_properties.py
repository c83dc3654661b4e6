"""Properties over synthetic inventories drawn by scalearc_lint.testing."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from scalearc_lint.engine.config import Config
from scalearc_lint.engine.evaluate import discover_rules, evaluate
from scalearc_lint.engine.results import Result, ResultsDocument, SnapshotInfo, Summary, ToolInfo
from scalearc_lint.engine.rule import Status
from scalearc_lint.snapshot.identification import Role
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.loader import decode_snapshot, encode_snapshot
from scalearc_lint.snapshot.model import Snapshot
from scalearc_lint.testing import (
    ESTATE_PLANTABLE,
    PLANTABLE,
    SyntheticEstate,
    SyntheticInventory,
    estates,
    hostile_text,
    inventories,
    run_rule,
)

RULES = discover_rules(plugins=False)


def lint(inv: SyntheticInventory) -> list[Result]:
    return evaluate([Inventory(inv.snapshot)], RULES, Config())


def failing(results: list[Result]) -> set[tuple[str, str]]:
    return {(r.rule, r.object.id) for r in results if r.status is Status.FAIL}


@given(inventories())
def test_clean_inventory_has_no_failures_unknowns_or_errors(inv: SyntheticInventory) -> None:
    results = lint(inv)
    assert [r for r in results if r.status is not Status.PASS] == []


@given(inventories(plant=PLANTABLE))
def test_every_planted_violation_is_found_and_nothing_else(inv: SyntheticInventory) -> None:
    results = lint(inv)
    assert failing(results) == inv.expected_failures()
    assert not [r for r in results if r.status is Status.CRASHED]


@given(
    st.sampled_from(PLANTABLE).flatmap(
        lambda rule: st.tuples(st.just(rule), inventories(plant={rule}))
    )
)
def test_one_planted_violation_is_found_by_its_own_rule(
    case: tuple[str, SyntheticInventory],
) -> None:
    rule, inv = case
    found = {r.object.id for r in run_rule(rule, inv.snapshot) if r.status is Status.FAIL}
    assert found == set(inv.planted[rule])


@given(inventories(plant=PLANTABLE, names=hostile_text()))
def test_hostile_names_never_crash_and_round_trip(inv: SyntheticInventory) -> None:
    results = lint(inv)
    assert not [r for r in results if r.status is Status.CRASHED]
    assert failing(results) == inv.expected_failures()
    assert decode_snapshot(encode_snapshot(inv.snapshot)) == inv.snapshot
    document = ResultsDocument(
        tool=ToolInfo(),
        snapshot=SnapshotInfo("0" * 64, "vc", inv.snapshot.exported_at, inv.snapshot.exported_at),
        results=results,
        summary=Summary.of(results),
    )
    again = msgspec.json.decode(msgspec.json.encode(document), type=ResultsDocument)
    assert again.results == results


@given(inventories(plant=PLANTABLE))
def test_results_are_deterministic(inv: SyntheticInventory) -> None:
    first = lint(inv)
    second = evaluate([Inventory(decode_snapshot(encode_snapshot(inv.snapshot)))], RULES, Config())
    assert first == second
    assert first == sorted(first, key=Result.sort_key)


@given(inventories(plant=PLANTABLE))
def test_linting_does_not_mutate_the_snapshot(inv: SyntheticInventory) -> None:
    before = encode_snapshot(inv.snapshot)
    lint(inv)
    assert encode_snapshot(inv.snapshot) == before


@given(inventories(plant=PLANTABLE))
def test_every_appliance_and_pair_gets_a_result_per_rule(inv: SyntheticInventory) -> None:
    inventory = Inventory(inv.snapshot)
    results = lint(inv)
    paired = {moid for moid, a in inventory.appliances.items() if a.role is not Role.STANDALONE}
    for item in RULES:
        objects = {r.object.id for r in results if r.rule == item.rule.id}
        if item.rule.id == "SA013":  # standalone appliances are out of its scope
            assert objects == {*paired, *inventory.unidentified}
        elif item.rule.scope == "appliance" and item.rule.id != "SA009":
            assert objects == {*inventory.appliances, *inventory.unidentified}
        if item.rule.id == "SA011":
            assert objects == set(inventory.pairs)


@given(inventories(pairs_apart_by_placement=True))
def test_pairs_apart_by_cluster_or_standalone_host_pass_sa005(inv: SyntheticInventory) -> None:
    results = run_rule("SA005", inv.snapshot)
    assert [r for r in results if r.status is not Status.PASS] == []


@given(inventories(plant={"SA005"}, pairs_apart_by_placement=True))
def test_sa005_violation_is_found_among_pairs_apart_by_placement(
    inv: SyntheticInventory,
) -> None:
    found = {r.object.id for r in run_rule("SA005", inv.snapshot) if r.status is Status.FAIL}
    assert found == set(inv.planted["SA005"])


def _situations(snapshot: Snapshot) -> set[str]:
    """Which of the situations the new semantics must judge a snapshot contains."""
    seen: set[str] = set()
    inventory = Inventory(snapshot)
    clusters = snapshot.clusters.values()
    if any(c.drs.enable_vm_behavior_overrides is False for c in clusters):
        seen.add("VM overrides off")
    if any(r.kind == "vm-host" for c in clusters for r in c.rules):
        seen.add("VM-Host rules")
    if any(h.cluster is None for h in snapshot.hosts.values()):
        seen.add("standalone host")
    for moid, appliance in inventory.appliances.items():
        _, memory = inventory.guaranteed_resources(appliance.vm)
        pool = inventory.pool(appliance.vm.resource_pool)
        if memory.headroom is not None and pool is not None and memory.headroom.pool != pool:
            seen.add("expandable pool with none")
        if memory.headroom is not None and memory.headroom.held_by_others:
            seen.add("reservations held by others")
        if memory.own and memory.own < (memory.configured or 0):
            seen.add("partial own reservation")
        if any(len(m.events) > 1 and m.live for m in inventory.migrations_of(moid)):
            seen.add("chained vMotion")
        if any(m.live is False for m in inventory.migrations_of(moid)):
            seen.add("cold migration")
        restart = inventory.ha_restart(appliance.vm)
        if restart.restarts is False and restart.reason.startswith("cluster"):
            seen.add("HA restart left to a disabled cluster default")
        if any(limit.limits and not limit.below(10**6) for limit in inventory.limits(appliance.vm)):
            seen.add("limits above the appliance that do not starve it")
    return seen


SITUATIONS = (
    "VM overrides off",
    "VM-Host rules",
    "standalone host",
    "expandable pool with none",
    "reservations held by others",
    "partial own reservation",
    "chained vMotion",
    "cold migration",
    "HA restart left to a disabled cluster default",
    "limits above the appliance that do not starve it",
)


# find() reprs the inventory it found, which is large; the warning saying so is noise here.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_strategy_draws_the_situations_the_rules_must_judge(situation: str) -> None:
    """Else the properties above would pass without ever meeting it."""
    find(
        inventories(plant=PLANTABLE, pairs_apart_by_placement=True),
        lambda inv: situation in _situations(inv.snapshot),
        # Finding one is the point: no shrinking it to the smallest (slow, and not needed).
        settings=settings(max_examples=300, database=None, deadline=None, phases=[Phase.generate]),
    )


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_estate_strategy_draws_the_same_situations_in_its_vcenters(situation: str) -> None:
    """estates() draws each vCenter as inventories() does: the same situations occur."""
    find(
        estates(plant=ESTATE_PLANTABLE),
        lambda estate: any(situation in _situations(s) for s in estate.snapshots),
        # Finding one is the point: no shrinking it to the smallest (slow, and not needed).
        settings=settings(max_examples=300, database=None, deadline=None, phases=[Phase.generate]),
    )


# -- several vCenters: one estate -------------------------------------------------------


def lint_estate(estate: SyntheticEstate, *, reverse: bool = False) -> list[Result]:
    snapshots = estate.snapshots[::-1] if reverse else estate.snapshots
    inventories_ = [Inventory(s, selection=estate.selection) for s in snapshots]
    return evaluate(inventories_, RULES, Config(selection=estate.selection))


def estate_failing(results: list[Result]) -> set[tuple[str, str, str]]:
    return {(r.rule, r.object.vcenter, r.object.id) for r in results if r.status is Status.FAIL}


def expected_unknowns(estate: SyntheticEstate) -> set[tuple[str, str, str]]:
    """Every result resting on identification in doubt: appliance and pair rules."""
    by_scope = {
        "appliance": estate.unidentified,
        "pair": estate.doubtful_pairs,
    }
    return {
        (item.rule.id, vcenter, obj)
        for item in RULES
        for vcenter, obj in by_scope.get(item.rule.scope, ())
    }


@given(estates())
def test_clean_estate_has_no_failures_unknowns_or_errors(estate: SyntheticEstate) -> None:
    results = lint_estate(estate)
    assert [r for r in results if r.status is not Status.PASS] == []
    # ID001 speaks for every vCenter, and every result names its vCenter.
    vcenters = {s.source.vcenter for s in estate.snapshots}
    assert {r.object.id for r in results if r.object.kind == "vcenter"} == vcenters
    assert {r.object.vcenter for r in results} == vcenters


@given(estates(plant=ESTATE_PLANTABLE))
def test_every_planted_violation_across_vcenters_is_found_and_nothing_else(
    estate: SyntheticEstate,
) -> None:
    results = lint_estate(estate)
    assert estate_failing(results) == estate.expected_failures()
    unknowns = {
        (r.rule, r.object.vcenter, r.object.id) for r in results if r.status is Status.UNKNOWN
    }
    assert unknowns == expected_unknowns(estate)
    assert not [r for r in results if r.status is Status.CRASHED]


@given(
    st.sampled_from(ESTATE_PLANTABLE).flatmap(
        lambda rule: st.tuples(st.just(rule), estates(plant={rule}))
    )
)
def test_one_planted_violation_across_vcenters_is_found_by_its_own_rule(
    case: tuple[str, SyntheticEstate],
) -> None:
    rule, estate = case
    results = run_rule(rule, estate.snapshots, selection=estate.selection)
    found = {(r.object.vcenter, r.object.id) for r in results if r.status is Status.FAIL}
    assert found == set(estate.planted[rule])


@given(estates(plant=ESTATE_PLANTABLE, names=hostile_text()))
def test_estate_with_hostile_names_finds_exactly_what_was_planted(estate: SyntheticEstate) -> None:
    results = lint_estate(estate)
    assert estate_failing(results) == estate.expected_failures()


@given(estates(plant=ESTATE_PLANTABLE))
def test_estate_results_are_deterministic_whatever_the_order_of_the_files(
    estate: SyntheticEstate,
) -> None:
    first = lint_estate(estate)
    again = [decode_snapshot(encode_snapshot(s)) for s in estate.snapshots]
    second = lint_estate(SyntheticEstate(again, selection=estate.selection))
    assert first == second
    assert lint_estate(estate, reverse=True) == first
    assert first == sorted(first, key=Result.sort_key)
