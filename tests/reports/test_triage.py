"""The one ranking every report shows ("Act now"), the context beside each finding, and the
next step filled with the object's names."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings

from scalearc_lint.commands.run import inventories, load_inputs, run
from scalearc_lint.engine.results import ObjectRef, Result, RuleInfo
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.reports.triage import (
    HOST_NOT_RECORDED,
    URGENCY_BY_RULE,
    NextStep,
    Subject,
    Subjects,
    Urgency,
    fill_names,
    finding_key,
    migration_route,
    remediation_step,
    triage,
    urgency,
)
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.sketch import build
from scalearc_lint.testing import inventories as generated_inventories
from tests.conftest import EXAMPLES
from tests.reports.reportkit import (
    EXAMPLE_ACT_NOW,
    lab,
    lint,
    make_document,
    make_result,
    make_rule,
)


def lab_json_triage() -> Any:
    inputs = load_inputs([EXAMPLES / "lab.json"])
    invs = inventories(inputs)
    return triage(run(inputs, invs), invs)


# -- the ranking on the bundled example ------------------------------------------------


def test_act_now_on_the_example_lab_puts_active_appliances_at_risk_first() -> None:
    ranked = lab_json_triage()
    assert [
        (a.subject.label, a.top.rule, a.urgency.value) for a in ranked.actions
    ] == EXAMPLE_ACT_NOW
    billing_01 = ranked.actions[0]
    assert [r.rule for r in billing_01.findings] == [
        "SA009",
        "SA012",
        "SA016",
        "SA006",
        "SA014",
        "SA003",
        "SA013",
        "SA007",
    ]
    assert [a.position for a in ranked.actions] == list(range(1, 10))


def test_every_failing_result_is_in_exactly_one_action_and_nothing_else_is() -> None:
    ranked = lab_json_triage()
    inputs = load_inputs([EXAMPLES / "lab.json"])
    failing = [r for r in run(inputs).results if r.status is Status.FAIL]
    in_actions = [r for a in ranked.actions for r in a.findings]
    assert sorted(in_actions, key=Result.sort_key) == sorted(failing, key=Result.sort_key)
    assert len({(a.subject.ref.kind, a.subject.ref.id) for a in ranked.actions}) == len(
        ranked.actions
    )


def test_context_names_role_host_cluster_pool_and_the_pair() -> None:
    ranked = lab_json_triage()
    billing_01 = ranked.actions[0].subject
    assert billing_01.facts() == [
        ("role", "primary"),
        ("HA pair", "billing"),
        ("host", "esx03.corp.example"),
        ("cluster", "Prod-Cluster-A"),
        ("pool", "ScaleArc-Billing"),
    ]
    assert [(m.ref.name, m.role, m.host) for m in billing_01.members] == [
        ("sa-billing-02", "secondary", "esx03.corp.example")
    ]
    pair = ranked.actions[3].subject
    assert (pair.role, pair.active, pair.host) == ("pair", True, "esx03.corp.example")
    assert [m.ref.name for m in pair.members] == ["sa-billing-01", "sa-billing-02"]


def test_the_migration_event_gives_its_hosts_and_age() -> None:
    ranked = lab_json_triage()
    billing_01 = ranked.actions[0]
    [event] = ranked.events(billing_01)
    assert event == (
        "DrsVmMigratedEvent at 2026-11-21T02:00:00+00:00 (3 days ago): moved from "
        "esx02.corp.example to esx03.corp.example, by VSPHERE.LOCAL\\Administrator"
    )
    # A finding about an event shows its events; a latent one does not.
    latent = next(a for a in ranked.actions if a.urgency.value == "latent")
    assert ranked.events(latent) == []


def test_the_next_step_is_the_remediation_with_the_objects_names() -> None:
    steps = {a.subject.ref.name: a.step.text for a in lab_json_triage().actions if a.step}
    assert steps["sa-billing-01"].startswith("Check sa-billing-01 and its database traffic now")
    assert steps["billing"].startswith(
        "Move the secondary sa-billing-02 to a host other than esx03.corp.example "
    )
    assert steps["sa-billing-02"].startswith("Check sa-billing-02 and its HA pair now; ")


# -- the ranking's rules, case by case -------------------------------------------------


def subject(name: str, role: str = "primary", **fields: Any) -> Subject:
    active = role in ("primary", "standalone", "pair")
    return Subject(ObjectRef("vm", f"vm-{name}", name, "vc"), role=role, active=active, **fields)


def result(rule: str, name: str, severity: Severity = Severity.ERROR) -> Result:
    return make_result(name, rule=rule, moid=f"vm-{name}", severity=severity, vcenter="vc")


def test_errors_come_before_warnings_whatever_their_urgency() -> None:
    moved_warning = finding_key(result("SA009", "a", Severity.WARNING), subject("a"))
    latent_error = finding_key(result("SA001", "b"), subject("b", "secondary"))
    assert latent_error < moved_warning


def test_an_active_appliance_at_risk_comes_before_a_secondary_that_was_moved() -> None:
    active_exposed = finding_key(result("SA006", "z"), subject("z"))
    secondary_happened = finding_key(result("SA010", "a"), subject("a", "secondary"))
    assert active_exposed < secondary_happened


def test_urgency_orders_findings_of_equal_severity_and_role() -> None:
    keys = [
        finding_key(result(rule, "a"), subject("a"))
        for rule in ("SA001", "SA006", "SA009", "SA004", "SA010")
    ]
    order = [k[2] for k in sorted(keys)]
    assert order == [0, 0, 1, 1, 2]


def test_an_active_appliance_comes_before_a_secondary_with_the_same_finding() -> None:
    assert finding_key(result("SA001", "z"), subject("z")) < finding_key(
        result("SA001", "a"), subject("a", "secondary")
    )


def test_rules_without_an_urgency_are_latent() -> None:
    assert urgency("ACME123") is Urgency.LATENT
    assert urgency("PLAN001") is Urgency.LATENT
    assert {URGENCY_BY_RULE[r] for r in ("SA009", "SA010")} == {Urgency.HAPPENED}
    assert {URGENCY_BY_RULE[r] for r in ("SA004", "SA006")} == {Urgency.EXPOSED}


def test_single_results_rank_by_their_own_key_across_objects() -> None:
    results = [
        result("SA007", "a", Severity.WARNING),
        result("SA009", "a"),
        result("SA001", "b"),
    ]
    ranked = triage(make_document(results, [make_rule()]))
    assert [a.subject.ref.name for a in ranked.actions] == ["a", "b"]
    # The warning of the first object comes after the error of the second.
    assert [(r.rule, r.object.name) for r in ranked.ranked(results)] == [
        ("SA009", "a"),
        ("SA001", "b"),
        ("SA007", "a"),
    ]


def test_report_order_after_the_failures_is_worst_status_then_errors_first() -> None:
    results = [
        make_result("p", Status.PASS, moid="vm-p"),
        make_result("w", Status.WAIVED, moid="vm-w"),
        make_result("u", Status.UNKNOWN, moid="vm-u", severity=Severity.WARNING),
        make_result("u2", Status.UNKNOWN, moid="vm-u2"),
        make_result("c", Status.CRASHED, moid="vm-c"),
        make_result("f", Status.FAIL, moid="vm-f"),
    ]
    ranked = triage(make_document(results))
    assert [r.object.name for r in ranked.ranked(results)] == ["f", "c", "u2", "u", "w", "p"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_inventories(plant={"SA001", "SA004", "SA006", "SA008", "SA009", "SA010"}))
def test_actions_are_sorted_by_their_leading_finding_and_cover_every_failure(
    generated: Any,
) -> None:
    linted = lint(generated.snapshot)
    ranked = triage(linted.document, linted.inventories)
    keys = [finding_key(a.top, a.subject) for a in ranked.actions]
    assert keys == sorted(keys)
    for action in ranked.actions:
        own = [finding_key(r, action.subject) for r in action.findings]
        assert own == sorted(own)
    failing = [r for r in linted.document.results if r.status is Status.FAIL]
    assert sorted(ranked.positions.values()) == list(range(1, len(failing) + 1))
    assert len(ranked.action_of) == len(failing)


# -- subjects and events ---------------------------------------------------------------


def test_an_object_the_inventories_do_not_hold_has_only_its_name() -> None:
    ref = ObjectRef("host", "host-9", "esx-9", "vc")
    described = Subjects([]).of(ref)
    assert described == Subject(ref)
    assert described.context() == ""


def test_migration_route_names_hosts_or_says_what_the_event_does_not() -> None:
    snapshot = build(
        {
            "hosts": 2,
            "appliances": {"sa-1": {"role": "standalone", "host": "esx-1"}},
            "events": [{"vm": "sa-1", "kind": "hot-migrate", "live": True}],
        }
    )
    inventory = Inventory(snapshot)
    [event] = snapshot.events.items
    hosts = {h.name: moid for moid, h in snapshot.hosts.items()}
    moved = msgspec.structs.replace(event, source_host=hosts["esx-1"], dest_host=hosts["esx-2"])
    assert migration_route(moved, inventory) == ("esx-1", "esx-2")
    unknown_host = msgspec.structs.replace(moved, dest_host="host-404")
    assert migration_route(unknown_host, inventory) == ("esx-1", "host-404")
    unnamed = msgspec.structs.replace(moved, source_host=None, dest_host=None)
    assert migration_route(unnamed, inventory) == (HOST_NOT_RECORDED, HOST_NOT_RECORDED)


def test_events_of_an_appliance_are_newest_first() -> None:
    linted = lint(
        {
            "appliances": {"sa-1": {"role": "standalone"}},
            "events": [
                {"vm": "sa-1", "kind": "revert", "age": "9d"},
                {"vm": "sa-1", "kind": "revert", "age": "1d"},
            ],
        }
    )
    [action] = triage(linted.document, linted.inventories).actions
    assert [e.created for e in action.subject.events] == sorted(
        (e.created for e in action.subject.events), reverse=True
    )


# -- the next step ---------------------------------------------------------------------


def test_fill_names_replaces_only_what_the_object_knows() -> None:
    known = subject("sa-1", host="esx-1", cluster="Prod")
    text = "Cluster > Configure: select the appliances; move the appliance to another host."
    assert fill_names(text, known) == (
        "Cluster Prod > Configure: select sa-1; move sa-1 to a host other than esx-1."
    )
    bare = Subject(ObjectRef("vm", "vm-1", "sa-1", "vc"))
    assert fill_names(text, bare) == text


def test_fill_names_puts_hostile_names_in_literally() -> None:
    for name in (r"sa-\1-\g<0>", "sa-$1", "<script>"):
        known = subject(name, cluster=name)
        assert fill_names("Power the appliance off.", known) == f"Power {name} off."
        assert fill_names("Cluster > x", known) == f"Cluster {name} > x"


def test_fill_names_names_the_secondary_and_both_members_of_a_pair() -> None:
    linted = lab()
    ranked = triage(linted.document, linted.inventories)
    [pair_action] = [a for a in ranked.actions if a.subject.ref.kind == "ha-pair"]
    text = "Move the secondary away; add a rule with both members."
    assert fill_names(text, pair_action.subject) == (
        "Move the secondary sa-alpha-2 away; add a rule with both members "
        "(sa-alpha-1 and sa-alpha-2)."
    )


def test_no_remediation_no_step() -> None:
    described = subject("sa-1")
    assert remediation_step(result("SA001", "sa-1"), described, None) is None
    empty = RuleInfo("SA001", "n", "t", Severity.ERROR, "appliance", "r", "ref", "")
    assert remediation_step(result("SA001", "sa-1"), described, empty) is None


def test_a_plan_can_supply_the_steps_through_the_hook() -> None:
    """``fix`` will hand its plan's steps in; every report then shows them."""

    def plan_steps(found: Result, about: Subject, rule: RuleInfo | None) -> NextStep:
        return NextStep(f"plan step for {found.rule} on {about.ref.name}", source="plan")

    document = make_document([result("SA001", "sa-1")], [make_rule()])
    [action] = triage(document, steps=plan_steps).actions
    assert action.step == NextStep("plan step for SA001 on sa-1", "plan")


def test_with_several_vcenters_each_action_names_its_vcenter() -> None:
    results = [
        make_result("sa-1", moid="vm-1", vcenter="vc-a.example"),
        make_result("sa-1", moid="vm-1", vcenter="vc-b.example"),
    ]
    document = make_document(results, [make_rule()], vcenters=("vc-a.example", "vc-b.example"))
    ranked = triage(document)
    assert [ranked.lines(a)[0] for a in ranked.actions] == [
        "vc-a.example: vm sa-1",
        "vc-b.example: vm sa-1",
    ]
