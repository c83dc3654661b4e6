"""Properties over synthetic inventories drawn by scalearc_lint.testing."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from scalearc_lint.engine.config import Config
from scalearc_lint.engine.evaluate import discover_rules, evaluate
from scalearc_lint.engine.results import Result, ResultsDocument, SnapshotInfo, Summary, ToolInfo
from scalearc_lint.engine.rule import Status
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.loader import decode_snapshot, encode_snapshot
from scalearc_lint.testing import (
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
    for item in RULES:
        objects = {r.object.id for r in results if r.rule == item.rule.id}
        if item.rule.scope == "appliance" and item.rule.id != "SA009":
            assert objects == {*inventory.appliances, *inventory.unidentified}
        if item.rule.id == "SA011":
            assert objects == set(inventory.pairs)


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


@given(estates(plant=PLANTABLE))
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
    st.sampled_from(PLANTABLE).flatmap(lambda rule: st.tuples(st.just(rule), estates(plant={rule})))
)
def test_one_planted_violation_across_vcenters_is_found_by_its_own_rule(
    case: tuple[str, SyntheticEstate],
) -> None:
    rule, estate = case
    results = run_rule(rule, estate.snapshots, selection=estate.selection)
    found = {(r.object.vcenter, r.object.id) for r in results if r.status is Status.FAIL}
    assert found == set(estate.planted[rule])


@given(estates(plant=PLANTABLE, names=hostile_text()))
def test_estate_with_hostile_names_finds_exactly_what_was_planted(estate: SyntheticEstate) -> None:
    results = lint_estate(estate)
    assert estate_failing(results) == estate.expected_failures()


@given(estates(plant=PLANTABLE))
def test_estate_results_are_deterministic_whatever_the_order_of_the_files(
    estate: SyntheticEstate,
) -> None:
    first = lint_estate(estate)
    again = [decode_snapshot(encode_snapshot(s)) for s in estate.snapshots]
    second = lint_estate(SyntheticEstate(again, selection=estate.selection))
    assert first == second
    assert lint_estate(estate, reverse=True) == first
    assert first == sorted(first, key=Result.sort_key)
