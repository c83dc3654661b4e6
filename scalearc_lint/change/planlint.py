"""Change-plan lint: a what-if plan's steps checked against the vendor's migration procedure.

Findings are ordinary results so every renderer carries them unchanged: rule
ids ``PLAN001``-``PLAN006``, object kind ``plan-step``, object id the step's
``file:line``, object name ``step N (file:line) <what it does>`` (plus the VM or
pair when a step touches several), and the VM's instance UUID where there is
one. A rule gives a result (pass or fail) for each step it applies to, so a
clean plan shows passing test cases in JUnit too.

========  ===============================  =======================================================
PLAN001   no-live-migrate-active           a live migration (a ``migrate`` with mode live, or a
                                           ``maintenance`` evacuation) of an active appliance
PLAN002   migrate-prerequisites            a migrated appliance lacks static MACs (SA001) or its
                                           portgroups do not notify switches (SA003), judged on
                                           the state after the step
PLAN003   pair-move-order                  both members of a pair move without a switchover
                                           between the two moves
PLAN004   pair-apart-at-end                the plan ends with both members of a pair on one host
                                           (reported at the last step that moved one there; a
                                           pair already together before the plan is SA004's)
PLAN005   no-snapshot-left-on-active       a snapshot the plan took is still there at the end
                                           and its VM is then an active appliance
PLAN006   maintenance-keeps-pair-apart     entering maintenance leaves no host to keep a pair
                                           (or an anti-affinity rule's VMs) apart
========  ===============================  =======================================================
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from scalearc_lint.change.plan import Move, PlanRun, StepOutcome
from scalearc_lint.engine.config import Config
from scalearc_lint.engine.evaluate import LoadedRule
from scalearc_lint.engine.results import ObjectRef, Result, RuleInfo
from scalearc_lint.engine.rule import Severity, Status, Verdict
from scalearc_lint.snapshot.identification import ApplianceSelection, fold
from scalearc_lint.snapshot.inventory import Inventory, identification_doubt, walk_snapshots
from scalearc_lint.snapshot.model import Snapshot

_PROCEDURE = (
    'ScaleArc VM best practices, "Best practices for VM migration" and "vMotion and similar '
    'technologies with ScaleArc HA"'
)


def _info(id_: str, name: str, title: str, rationale: str, reference: str, fix: str) -> RuleInfo:
    return RuleInfo(id_, name, title, Severity.ERROR, "plan-step", rationale, reference, fix)


PLAN_RULES: tuple[RuleInfo, ...] = (
    _info(
        "PLAN001",
        "no-live-migrate-active",
        "The plan does not vMotion an active appliance",
        "vMotion of a primary or standalone appliance loses database updates and can corrupt "
        "records; maintenance mode vMotions every running VM of the host.",
        '"ScaleArc does not recommend or support voluntary or automatic vMotion of an active '
        '(that is, HA Primary or standalone ScaleArc) appliance" - ' + _PROCEDURE,
        "Switch the pair over first so the appliance is the secondary, or power it off and "
        "migrate it cold.",
    ),
    _info(
        "PLAN002",
        "migrate-prerequisites",
        "A migrated appliance has static MACs and notifying portgroups",
        "Without a static MAC and switches that learn the new port, the moved appliance may be "
        "unreachable after the migration.",
        '"the HA Secondary may be vMotioned, provided you have configured Static MAC, and that '
        'the virtual switches accept and propagate routing/forwarding ARP updates" - ' + _PROCEDURE,
        "Before the step: set every vNIC's MAC to manual (SA001) and Notify switches on the "
        "portgroups of the destination (SA003).",
    ),
    _info(
        "PLAN003",
        "pair-move-order",
        "Both members of a pair move secondary, switchover, new secondary",
        "Moving the second member without a switchover moves the appliance that carries the "
        "traffic, or leaves the pair without a tested secondary.",
        '"To move both members of an HA pair, move the HA Secondary, perform a manual HA '
        'switchover, then move the newly-demoted HA Secondary." - ' + _PROCEDURE,
        "Insert a switchover step for the pair between the two moves.",
    ),
    _info(
        "PLAN004",
        "pair-apart-at-end",
        "The plan leaves the members of each pair on different hosts",
        "One host failure must not take down both appliances of a pair.",
        '"ScaleArc recommends you separate the two appliances of an HA pair onto two ESX servers."',
        "Move one member to another host before the plan ends, or choose another destination.",
    ),
    _info(
        "PLAN005",
        "no-snapshot-left-on-active",
        "The plan leaves no snapshot it took on an active appliance",
        "Snapshot consolidation stuns the VM; on an active appliance that means application "
        "errors.",
        'Using VMware snapshots: "ScaleArc recommends that you keep snapshots only briefly".',
        "Add a remove_snapshot step before the plan ends.",
    ),
    _info(
        "PLAN006",
        "maintenance-keeps-pair-apart",
        "Maintenance mode leaves a host for each pair member",
        "Evacuating a host into a cluster with too few hosts puts both members of a pair (or "
        "VMs of an anti-affinity rule) on one host.",
        '"ScaleArc recommends you separate the two appliances of an HA pair onto two ESX servers."',
        "Add a host to the cluster, or cold-migrate one member elsewhere first.",
    ),
)
PLAN_RULE_IDS = frozenset(info.id for info in PLAN_RULES)
_BY_ID = {info.id: info for info in PLAN_RULES}


def enabled_plan_rules(config: Config) -> list[RuleInfo]:
    """The plan rules ``config`` leaves enabled (``rules: {PLAN003: {enabled: false}}``)."""
    return [info for info in PLAN_RULES if config.settings(info).enabled]


class _Linter:
    """Walks the steps of a plan run, caching one inventory per state."""

    def __init__(
        self,
        run: PlanRun,
        *,
        selection: ApplianceSelection,
        as_of: datetime,
        rules: Sequence[LoadedRule],
        config: Config,
    ) -> None:
        self.run = run
        self.selection = selection
        self.as_of = as_of
        self.rules = {item.rule.id: item.rule for item in rules}
        self.config = config
        self._inventories: dict[int, Inventory] = {}

    def inventory(self, state: Snapshot) -> Inventory:
        """The inventory view of one state (each state's indexes built once)."""
        key = id(state)
        if key not in self._inventories:
            self._inventories[key] = Inventory(state, as_of=self.as_of, selection=self.selection)
        return self._inventories[key]

    def result(
        self, rule: str, outcome: StepOutcome, status: Status, message: str, *, about: str = ""
    ) -> Result:
        """A result about one step (and one VM moid or pair id of it, when given)."""
        step = outcome.step
        vm = outcome.before.vms.get(about) or outcome.after.vms.get(about)
        subject = f"pair {about}" if about and vm is None else vm.name if vm is not None else ""
        if subject and str(step.target) in (subject, about):
            subject = ""
        ref = ObjectRef(
            "plan-step",
            step.location,
            f"step {step.index} ({step.location}) {step.summary}"
            + (f": {subject}" if subject else ""),
            self.run.initial.source.vcenter,
            vm.instance_uuid if vm is not None else "",
        )
        return Result(rule, status, self.config.settings(_BY_ID[rule]).severity, ref, message)

    def lint(self) -> list[Result]:
        """Every plan finding of the enabled plan rules, in step order."""
        results: list[Result] = []
        for outcome in self.run.outcomes:
            for move in outcome.moves:
                results.extend(self._move(outcome, move))
            if outcome.step.op == "maintenance":
                results.append(self._maintenance(outcome))
        results.extend(self._order())
        results.extend(self._end_state())
        enabled = {info.id for info in enabled_plan_rules(self.config)}
        return [r for r in results if r.rule in enabled]

    def _move(self, outcome: StepOutcome, move: Move) -> Iterator[Result]:
        before = self.inventory(outcome.before)
        appliance = before.appliances.get(move.vm)
        if appliance is None:
            # A VM whose role is in doubt (ID001) may be an active appliance: never guess.
            unsure = before.unidentified.get(move.vm)
            doubt = identification_doubt(unsure) if unsure is not None else None
            if doubt is not None:
                for rule in ("PLAN001", "PLAN002") if move.live else ("PLAN002",):
                    yield self.result(rule, outcome, Status.UNKNOWN, doubt, about=move.vm)
            return
        name, role = appliance.vm.name, appliance.role.value
        dest = outcome.after.hosts[move.dest].name
        if move.live:
            if appliance.active:
                instead = (
                    "power it off and migrate it cold"
                    if appliance.pair is None
                    else "switch the pair over first so it is the secondary"
                )
                yield self.result(
                    "PLAN001",
                    outcome,
                    Status.FAIL,
                    f"live migration (vMotion) of {name} to {dest} while it is the {role}; "
                    f"{instead}",
                    about=move.vm,
                )
            else:
                yield self.result(
                    "PLAN001",
                    outcome,
                    Status.PASS,
                    f"{name} is the {role} when it is vMotioned",
                    about=move.vm,
                )
        yield self._prerequisites(outcome, move, name)

    def _prerequisites(self, outcome: StepOutcome, move: Move, name: str) -> Result:
        after = self.inventory(outcome.after)
        appliance = after.appliances.get(move.vm)
        verdicts: list[tuple[str, Verdict]] = []
        for rule_id in ("SA001", "SA003"):
            rule = self.rules.get(rule_id)
            if rule is None or appliance is None:
                verdicts.append((rule_id, Verdict(Status.UNKNOWN, f"rule {rule_id} not loaded")))
                continue
            verdict = rule.check(appliance, after, self.config.settings(rule).options)
            if verdict is not None:
                verdicts.append((rule_id, verdict))
        failing = [f"{rid}: {v.message}" for rid, v in verdicts if v.status is Status.FAIL]
        unsure = [f"{rid}: {v.message}" for rid, v in verdicts if v.status is Status.UNKNOWN]
        if failing:
            return self.result(
                "PLAN002",
                outcome,
                Status.FAIL,
                f"{name} is migrated without the vendor's prerequisites ({'; '.join(failing)}); "
                "fix them in an earlier step or before the change",
                about=move.vm,
            )
        if unsure:
            return self.result("PLAN002", outcome, Status.UNKNOWN, "; ".join(unsure), about=move.vm)
        return self.result(
            "PLAN002",
            outcome,
            Status.PASS,
            f"{name} has static MACs and notifying portgroups",
            about=move.vm,
        )

    def _maintenance(self, outcome: StepOutcome) -> Result:
        host = outcome.after.hosts
        if outcome.not_kept_apart:
            return self.result(
                "PLAN006",
                outcome,
                Status.FAIL,
                "no host is left to keep apart: " + ", ".join(outcome.not_kept_apart),
            )
        moved = len(outcome.moves)
        names = sorted({host[m.dest].name for m in outcome.moves})
        where = f" to {', '.join(names)}" if names else ""
        return self.result(
            "PLAN006", outcome, Status.PASS, f"{moved} running VM(s) evacuated{where}, pairs apart"
        )

    def _order(self) -> Iterator[Result]:
        """PLAN003: a pair's second move needs a switchover of the pair after the first."""
        last_move: dict[str, int] = {}
        last_switchover: dict[str, int] = {}
        for position, outcome in enumerate(self.run.outcomes):
            before = self.inventory(outcome.before)
            if outcome.step.op == "switchover":
                last_switchover[fold(str(outcome.step.target))] = position
            for move in outcome.moves:
                appliance = before.appliances.get(move.vm)
                if appliance is None or appliance.pair is None:
                    continue
                pair = before.pairs.get(appliance.pair)
                partners = [m.vm.moid for m in pair.members if m.vm.moid != move.vm] if pair else []
                earlier = [last_move[p] for p in partners if p in last_move]
                if earlier:
                    first = self.run.outcomes[max(earlier)].step
                    if last_switchover.get(appliance.pair, -1) > max(earlier):
                        status = Status.PASS
                        message = f"switched over after step {first.index} moved the other member"
                    else:
                        status = Status.FAIL
                        message = (
                            f"both members move (step {first.index} at {first.location}, and "
                            "this step) with no switchover in between; the procedure is "
                            "secondary, switchover, new secondary"
                        )
                    message = f"pair {appliance.pair}: {message}"
                    yield self.result("PLAN003", outcome, status, message, about=move.vm)
                last_move[move.vm] = position

    def _end_state(self) -> Iterator[Result]:
        final = self.inventory(self.run.final)
        moved_to: dict[tuple[str, str], StepOutcome] = {}
        for outcome in self.run.outcomes:
            for move in outcome.moves:
                moved_to[(move.vm, move.dest)] = outcome
        for pair in final.pairs.values():
            moving = [
                moved_to[(m.vm.moid, m.vm.host)]
                for m in pair.members
                if m.vm.host is not None and (m.vm.moid, m.vm.host) in moved_to
            ]
            if len(pair.members) < 2 or not moving:
                continue
            last = max(moving, key=lambda o: o.step.index)
            hosts = [m.vm.host for m in pair.members if m.vm.host is not None]
            if len(set(hosts)) < len(hosts):
                shared = final.snapshot.hosts[next(h for h in hosts if hosts.count(h) > 1)]
                status = Status.FAIL
                message = f"the plan ends with pair {pair.id} on one host, {shared.name}"
            else:
                status, message = Status.PASS, f"pair {pair.id} ends on separate hosts"
            yield self.result("PLAN004", last, status, message, about=pair.id)
        for outcome in self.run.outcomes:
            if outcome.taken is None:
                continue
            vm_moid, snapshot_moid = outcome.taken
            appliance = final.appliances.get(vm_moid)
            if appliance is None:
                continue
            left = any(n.moid == snapshot_moid for n in walk_snapshots(appliance.vm.snapshots))
            name, role = appliance.vm.name, appliance.role.value
            if left and appliance.active:
                status = Status.FAIL
                message = (
                    f"the snapshot taken here is still on {name} when the plan ends, and it is "
                    f"then the {role}; add a remove_snapshot step"
                )
            elif left:
                status, message = Status.PASS, f"the snapshot stays on {name}, then the {role}"
            else:
                status, message = Status.PASS, "the snapshot is removed before the plan ends"
            yield self.result("PLAN005", outcome, status, message, about=vm_moid)


def lint_plan(
    run: PlanRun,
    *,
    selection: ApplianceSelection,
    as_of: datetime,
    rules: Sequence[LoadedRule],
    config: Config,
) -> list[Result]:
    """Check a plan run against the vendor procedure (see the module docstring)."""
    return _Linter(run, selection=selection, as_of=as_of, rules=rules, config=config).lint()
