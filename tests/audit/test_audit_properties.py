"""Properties: plans never mutate input, a self-diff is all persisting, waivers hide nothing."""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scalearc_lint.audit.baseline import compare, identity
from scalearc_lint.audit.waivers import Waiver, apply_waivers
from scalearc_lint.change.plan import apply_plan, load_plan
from scalearc_lint.engine.results import (
    Comparison,
    ObjectRef,
    Result,
    ResultsDocument,
    SnapshotInfo,
    Summary,
    ToolInfo,
)
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.errors import InputError
from scalearc_lint.snapshot.identification import ApplianceSelection
from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.sketch import build
from tests.audit.conftest import LAB_SKETCH

LAB = build(LAB_SKETCH)
VMS = ["sa-a1", "sa-a2", "sa-b1", "sa-b2", "sa-solo", "web-1"]
HOSTS = ["esx-1", "esx-2", "esx-3", "esx-4"]
AS_OF = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)

vm = st.sampled_from(VMS)
host = st.sampled_from(HOSTS)
steps = st.one_of(
    st.fixed_dictionaries({"migrate": vm, "to": host, "mode": st.sampled_from(["live", "cold"])}),
    st.fixed_dictionaries({"maintenance": host}),
    st.fixed_dictionaries({"exit_maintenance": host}),
    st.fixed_dictionaries({"power_off": vm}),
    st.fixed_dictionaries({"power_on": vm}),
    st.fixed_dictionaries({"take_snapshot": vm}),
    st.fixed_dictionaries({"remove_snapshot": vm}),
    st.fixed_dictionaries({"switchover": st.sampled_from(["alpha", "beta"])}),
    st.fixed_dictionaries(
        {"drs_override": vm, "behavior": st.sampled_from(["manual", "disabled", "inherit"])}
    ),
    st.fixed_dictionaries(
        {"add_anti_affinity": st.just("r-new"), "vms": st.lists(vm, min_size=2, max_size=3)}
    ),
    st.fixed_dictionaries(
        {"remove_anti_affinity": st.sampled_from(["scalearc-alpha-apart", "r-new"])}
    ),
)


@settings(deadline=None)
@given(st.lists(steps, min_size=1, max_size=10))
def test_applying_a_plan_never_mutates_the_input_snapshot(plan_steps: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.yaml"
        path.write_text(yaml.safe_dump({"steps": plan_steps}))
        plan = load_plan(path)
    # Apply the possible steps one by one (an impossible one is a plan error and is skipped),
    # so that every state, the input included, is handed to later steps.
    states = [LAB]
    frozen = [encode_snapshot(LAB)]
    for step in plan.steps:
        try:
            run = apply_plan(
                states[-1],
                dataclasses.replace(plan, steps=(step,)),
                selection=ApplianceSelection(),
                at=AS_OF,
            )
        except InputError:
            continue
        states.append(run.final)
        frozen.append(encode_snapshot(run.final))
    assert [encode_snapshot(state) for state in states] == frozen


names = st.text(min_size=1, max_size=12)
results = st.builds(
    lambda rule, status, severity, kind, oid, name, uuid, vc: Result(
        rule, status, severity, ObjectRef(kind, oid, name, vc, uuid), f"{rule} on {name}"
    ),
    st.sampled_from(["SA001", "SA004", "SA008", "PLAN001"]),
    st.sampled_from(list(Status)),
    st.sampled_from(list(Severity)),
    st.sampled_from(["vm", "ha-pair", "plan-step"]),
    st.text(min_size=1, max_size=8),
    names,
    st.one_of(st.just(""), st.uuids().map(str)),
    st.sampled_from(["vc1", "vc2"]),
)
result_sets = st.lists(results, max_size=25, unique_by=identity)


def as_document(items: list[Result]) -> ResultsDocument:
    info = SnapshotInfo("0" * 64, "vc1", AS_OF, AS_OF)
    return ResultsDocument(tool=ToolInfo(), snapshot=info, results=items, summary=Summary.of(items))


@given(result_sets)
def test_diff_of_a_result_set_with_itself_is_all_persisting(items: list[Result]) -> None:
    document = as_document(items)
    out = compare(document, document, source="same")
    assert all(r.baseline == "persisting" for r in out.results)
    assert isinstance(out.comparison, Comparison)
    assert (out.comparison.new, out.comparison.resolved, out.comparison.gone) == (0, 0, [])
    assert out.comparison.persisting == len(items)


waivers = st.builds(
    lambda rule, by, value, days: Waiver(
        rule=rule,
        by=by,
        value=value,
        vcenter=None,
        reason="r",
        owner="o",
        ticket="T-1",
        expires_at=AS_OF + timedelta(days=days),
        expires="x",
        source="w.yaml:2",
    ),
    st.sampled_from(["SA001", "SA004", "SA008", "PLAN001"]),
    st.sampled_from(["instance_uuid", "moid", "name"]),
    st.one_of(st.just("*"), names),
    st.integers(-3, 3),
)


@given(result_sets, st.lists(waivers, max_size=5))
def test_a_waiver_never_hides_a_result_from_the_reports(
    items: list[Result], entries: list[Waiver]
) -> None:
    out = apply_waivers(as_document(items), entries)
    expired = [w for w in entries if w.expired(AS_OF)]
    assert len(out.results) == len(items) + len(expired)
    after = {identity(r): r for r in out.results if r.rule != "WAIVER001"}
    for before in items:
        kept = after[identity(before)]
        assert kept.message == before.message
        if kept.status is not before.status:
            assert (before.status, kept.status) == (Status.FAIL, Status.WAIVED)
            assert kept.waiver is not None
    assert out.summary == Summary.of(out.results)
