"""Change-plan lint: a what-if plan's steps checked against the vendor's migration procedure.

Findings are ordinary results so every renderer carries them unchanged: rule
ids ``PLAN001``-``PLAN009``, object kind ``plan-step``, object id the step's
``file:line``, object name ``step N (file:line) <what it does>`` (plus the VM or
pair when a step touches several), and the VM's instance UUID where there is
one. A rule gives a result (pass or fail) for each step it applies to, so a
clean plan shows passing test cases in JUnit too. Every rule judges the state
*at its step* (roles, hosts, services), never the plan's end alone, and a
precondition the snapshot cannot establish fails: a plan it accepts will be
carried out.

========  ===============================  =======================================================
PLAN001   no-live-migrate-active           a live migration (a ``migrate`` with mode live, or a
                                           ``maintenance`` evacuation) of an active appliance, or
                                           of an appliance whose role cannot be established
PLAN002   migrate-prerequisites            a migrated appliance lacks static MACs (SA001), its
                                           portgroups do not notify switches (SA003), or either,
                                           or the destination's networks, cannot be established
PLAN003   pair-move-order                  both members of a pair move without a switchover
                                           between the two moves
PLAN004   pair-apart-at-end                the plan ends with both members of a pair on one host
                                           (reported at the last step that moved one there; a
                                           pair already together before the plan is SA004's)
PLAN005   no-snapshot-left-on-active       a snapshot the plan took is still there at the end
                                           and its VM is then an active appliance (or one
                                           whose role cannot be established)
PLAN006   maintenance-keeps-pair-apart     entering maintenance leaves no host to keep a pair
                                           (or an anti-affinity rule's VMs) apart
PLAN007   move-secondary-only              a member of an HA pair is moved (cold included) while
                                           it is not the secondary, or became the secondary by a
                                           failover rather than a switchover (vendor step 1)
PLAN008   vendor-manual-steps              (warning) a secondary's live migration without
                                           stop_services before it and check_connectivity,
                                           check_ha_lag, start_services after it, in that order;
                                           a manual step outside such a move; a switchover while
                                           a member's services are stopped
PLAN009   pair-apart-every-step            a step leaves both members of a pair on one host for
                                           a while (to the end is PLAN004's; maintenance PLAN006's)
========  ===============================  =======================================================
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from scalearc_lint.change.plan import Move, PlanRun, RoleChange, StepOutcome
from scalearc_lint.engine.config import Config
from scalearc_lint.engine.evaluate import LoadedRule
from scalearc_lint.engine.results import ObjectRef, Result, RuleInfo
from scalearc_lint.engine.rule import Severity, Status, Verdict
from scalearc_lint.snapshot.identification import ApplianceSelection, Identifier, Role, fold
from scalearc_lint.snapshot.inventory import Inventory, Pair, walk_snapshots
from scalearc_lint.snapshot.model import Snapshot

_PROCEDURE = (
    'ScaleArc VM best practices, "Best practices for VM migration" and "vMotion and similar '
    'technologies with ScaleArc HA"'
)


def _info(
    id_: str,
    name: str,
    title: str,
    rationale: str,
    reference: str,
    fix: str,
    severity: Severity = Severity.ERROR,
) -> RuleInfo:
    return RuleInfo(id_, name, title, severity, "plan-step", rationale, reference, fix)


PLAN_RULES: tuple[RuleInfo, ...] = (
    _info(
        "PLAN001",
        "no-live-migrate-active",
        "The plan does not vMotion an active appliance",
        "vMotion of a primary or standalone appliance loses database updates and can corrupt "
        "records; maintenance mode vMotions every running VM of the host. An appliance whose "
        "role cannot be established may be the active one.",
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
        "unreachable after the migration. The vendor allows the move only provided both hold, "
        "so a move where the snapshot cannot show that they hold fails too.",
        '"the HA Secondary may be vMotioned, provided you have configured Static MAC, and that '
        'the virtual switches accept and propagate routing/forwarding ARP updates" - ' + _PROCEDURE,
        "Before the step: set every vNIC's MAC to manual (SA001) and Notify switches on the "
        "portgroups of the destination (SA003); export the portgroups and switch members the "
        "snapshot lacks.",
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
    _info(
        "PLAN007",
        "move-secondary-only",
        "A member of an HA pair is moved only as the secondary, made so by a switchover",
        "Moving the primary, even powered off, takes the pair's traffic with it; a primary that "
        "was powered off or stopped made the secondary take over unannounced (a failover), "
        "which is not the planned switchover the procedure asks for.",
        '"1. Ensure the machine being moved is a Secondary (if you require to move the Primary '
        'server, then HA Switch it to become the Secondary before vMotion)." - ' + _PROCEDURE,
        "Add a switchover step for the pair before moving the primary, and move it as the "
        "secondary.",
    ),
    _info(
        "PLAN008",
        "vendor-manual-steps",
        "A secondary's live migration is wrapped in the vendor's manual steps",
        "The vendor's procedure stops the ScaleArc and HA services before the move, and checks "
        "connectivity and the HA lag before starting them again; without it the moved "
        "secondary may take part in HA while unreachable or lagging (split brain).",
        '"2. Stop all ScaleArc service and HA service on this machine. ... 5. Check all network '
        "connectivity ... 6. Monitor the response lag between the Primary and Secondary "
        '... 7. ... start the HA service and the idb services on the Secondary machine" - '
        + _PROCEDURE,
        "Around each live migration of a secondary add, in order: stop_services before it, "
        "then check_connectivity, check_ha_lag and start_services after it (and before any "
        "switchover of its pair).",
        Severity.WARNING,
    ),
    _info(
        "PLAN009",
        "pair-apart-every-step",
        "No step of the plan puts both members of a pair on one host",
        "A host failure during the window (during a switchover, a lag check, the next move) "
        "takes down both appliances of a pair as surely as one after it.",
        '"ScaleArc recommends you separate the two appliances of an HA pair onto two ESX servers."',
        "Order the moves so that each member lands on a host its partner is not on, or move "
        "through a third host.",
    ),
)
PLAN_RULE_IDS = frozenset(info.id for info in PLAN_RULES)
_BY_ID = {info.id: info for info in PLAN_RULES}
_CHECKS = ("check_connectivity", "check_ha_lag")


def enabled_plan_rules(config: Config) -> list[RuleInfo]:
    """The plan rules ``config`` leaves enabled (``rules: {PLAN003: {enabled: false}}``)."""
    return [info for info in PLAN_RULES if config.settings(info).enabled]


@dataclass(frozen=True, slots=True)
class _ServiceWindow:
    """A secondary's services stopped (``stop``), live-migrated, then started (``start``);
    positions index the plan's outcomes, ``None`` where the step is missing."""

    vm: str
    stop: int | None
    moves: tuple[int, ...]
    connectivity: int | None
    lag: int | None
    start: int | None


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
        self.identifier = Identifier(selection)
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

    def before(self, outcome: StepOutcome) -> Inventory:
        """The inventory as it stands when ``outcome``'s step begins."""
        return self.inventory(outcome.before.snapshot)

    def role(self, vm: str, position: int) -> Role | None:
        """The role of a VM when the step at ``position`` begins."""
        appliance = self.before(self.run.outcomes[position]).appliances.get(vm)
        return appliance.role if appliance is not None else None

    def name(self, vm: str) -> str:
        """A VM's name (as the plan starts)."""
        found = self.run.initial.vms.get(vm)
        return found.name if found is not None else vm

    def number(self, position: int | None) -> int:
        """The plan's number for the step at ``position``."""
        assert position is not None
        return self.run.outcomes[position].step.index

    def step_ref(self, position: int) -> str:
        """``step N (file:line)`` of the step at ``position``."""
        step = self.run.outcomes[position].step
        return f"step {step.index} ({step.location})"

    def result(
        self, rule: str, outcome: StepOutcome, status: Status, message: str, *, about: str = ""
    ) -> Result:
        """A result about one step (and one VM moid or pair id of it, when given)."""
        step = outcome.step
        vm = outcome.before.snapshot.vms.get(about) or outcome.after.snapshot.vms.get(about)
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
        for position, outcome in enumerate(self.run.outcomes):
            for move in outcome.moves:
                results.extend(self._move(position, outcome, move))
            if outcome.step.op == "maintenance":
                results.append(self._maintenance(outcome))
        results.extend(self._order())
        results.extend(self._end_state())
        results.extend(self._manual_steps())
        results.extend(self._apart_at_every_step())
        enabled = {info.id for info in enabled_plan_rules(self.config)}
        return [r for r in results if r.rule in enabled]

    # -- PLAN001, PLAN002, PLAN007: each move ------------------------------------------------

    def _move(self, position: int, outcome: StepOutcome, move: Move) -> Iterator[Result]:
        before = self.before(outcome)
        appliance = before.appliances.get(move.vm)
        vm = outcome.before.snapshot.vms[move.vm]
        dest = outcome.after.snapshot.hosts[move.dest].name
        if appliance is None:
            identity = self.identifier.identify(vm)
            if identity is not None:
                # Identified, but with no valid role (a bad or conflicting value): it may be
                # the active appliance, and nothing at this step can say it is not.
                yield self.result(
                    "PLAN001" if move.live else "PLAN007",
                    outcome,
                    Status.FAIL,
                    f"the role of {vm.name} cannot be established at this step "
                    f"({identity.problem}); fix its identification (ID001) before moving it",
                    about=move.vm,
                )
            return
        name, role = appliance.vm.name, appliance.role.value
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
        secondary_only = self._secondary_only(position, outcome, move, appliance.role)
        if secondary_only is not None:
            yield secondary_only
        yield self._prerequisites(outcome, move, name)

    def _secondary_only(
        self, position: int, outcome: StepOutcome, move: Move, role: Role
    ) -> Result | None:
        """PLAN007: an HA member moves as the secondary, and a switchover made it one."""
        name = self.name(move.vm)
        if role is Role.STANDALONE or (role is Role.PRIMARY and move.live):
            return None  # standalone: cold moves are the vendor's way; live primary: PLAN001
        if role is Role.PRIMARY:
            return self.result(
                "PLAN007",
                outcome,
                Status.FAIL,
                f"{name} is the primary: moving it, even powered off, moves the pair's traffic; "
                "switch the pair over first so it is the secondary (vendor step 1)",
                about=move.vm,
            )
        became = self._last_role_change(move.vm, position)
        if became is not None and became[1].cause == "failover":
            return self.result(
                "PLAN007",
                outcome,
                Status.FAIL,
                f"{name} became the secondary by a failover at {self.step_ref(became[0])} "
                f"({self.run.outcomes[became[0]].step.summary}), not by a switchover; switch "
                "the pair over before taking the primary down (vendor step 1)",
                about=move.vm,
            )
        how = (
            f"by the switchover at {self.step_ref(became[0])}"
            if became is not None
            else "since before the plan"
        )
        return self.result(
            "PLAN007", outcome, Status.PASS, f"{name} is the secondary {how}", about=move.vm
        )

    def _last_role_change(self, vm: str, position: int) -> tuple[int, RoleChange] | None:
        """The last role change of ``vm`` before the step at ``position``, with its position."""
        for earlier in range(position - 1, -1, -1):
            for change in self.run.outcomes[earlier].role_changes:
                if change.vm == vm:
                    return earlier, change
        return None

    def _prerequisites(self, outcome: StepOutcome, move: Move, name: str) -> Result:
        after = self.inventory(outcome.after.snapshot)
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
        # What the simulation had to assume about the destination is not established either.
        unsure += [f"that {u.what}" for u in outcome.unverified if u.vm == move.vm]
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
            # "provided you have configured Static MAC...": a proviso nobody can confirm is
            # not met, so an unknown here fails (at the rule's severity) instead of passing.
            return self.result(
                "PLAN002",
                outcome,
                Status.FAIL,
                f"the vendor's prerequisites for moving {name} cannot be established "
                f"({'; '.join(unsure)})",
                about=move.vm,
            )
        return self.result(
            "PLAN002",
            outcome,
            Status.PASS,
            f"{name} has static MACs and notifying portgroups",
            about=move.vm,
        )

    # -- PLAN006: maintenance ---------------------------------------------------------------

    def _maintenance(self, outcome: StepOutcome) -> Result:
        host = outcome.after.snapshot.hosts
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

    # -- PLAN003: the order of a pair's moves -----------------------------------------------

    def _order(self) -> Iterator[Result]:
        """PLAN003: a pair's second move needs a switchover of the pair after the first."""
        last_move: dict[str, int] = {}
        last_switchover: dict[str, int] = {}
        for position, outcome in enumerate(self.run.outcomes):
            before = self.before(outcome)
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

    # -- PLAN004, PLAN005: the end state ----------------------------------------------------

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
            shared = _shared_host(pair, self.run.final)
            if shared is not None:
                status = Status.FAIL
                message = f"the plan ends with pair {pair.id} on one host, {shared}"
            else:
                status, message = Status.PASS, f"pair {pair.id} ends on separate hosts"
            yield self.result("PLAN004", last, status, message, about=pair.id)
        for outcome in self.run.outcomes:
            if outcome.taken is None:
                continue
            vm_moid, snapshot_moid = outcome.taken
            vm = self.run.final.vms[vm_moid]
            left = any(n.moid == snapshot_moid for n in walk_snapshots(vm.snapshots))
            appliance = final.appliances.get(vm_moid)
            if appliance is None:
                identity = self.identifier.identify(vm)
                if left and identity is not None:
                    # It may be the active appliance at the end; nothing says it is not.
                    yield self.result(
                        "PLAN005",
                        outcome,
                        Status.FAIL,
                        f"the snapshot taken here is still on {vm.name} when the plan ends, "
                        f"and its role then cannot be established ({identity.problem})",
                        about=vm_moid,
                    )
                continue
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

    # -- PLAN008: the vendor's manual steps -------------------------------------------------

    def _windows(self) -> list[_ServiceWindow]:
        """Each stretch in which a secondary is live-migrated, with the manual steps around it.

        A stretch runs from the secondary's first live migration to the step that starts
        its services again (``start_services``, or a ``power_on``, which boots them), and
        takes in every further live migration of it before then.
        """
        outcomes = self.run.outcomes
        windows: list[_ServiceWindow] = []
        claimed: set[tuple[str, int]] = set()
        for position, outcome in enumerate(outcomes):
            for move in outcome.moves:
                if (
                    not move.live
                    or (move.vm, position) in claimed
                    or self.role(move.vm, position) is not Role.SECONDARY
                ):
                    continue
                vm = move.vm
                stop = None
                if vm in outcome.before.services_stopped:
                    stop = max(
                        p
                        for p in range(position)
                        if outcomes[p].step.op == "stop_services" and self._targets(p, vm)
                    )
                start = next(
                    (
                        p
                        for p in range(position + 1, len(outcomes))
                        if outcomes[p].step.op in ("start_services", "power_on")
                        and self._targets(p, vm)
                    ),
                    None,
                )
                end = start if start is not None else len(outcomes)
                moves = tuple(
                    p
                    for p in range(position, end)
                    if any(m.vm == vm and m.live for m in outcomes[p].moves)
                )
                claimed.update((vm, p) for p in moves)
                connectivity = self._first("check_connectivity", vm, moves[-1] + 1, end)
                lag = self._first(
                    "check_ha_lag", vm, (connectivity if connectivity is not None else end) + 1, end
                )
                windows.append(_ServiceWindow(vm, stop, moves, connectivity, lag, start))
        return windows

    def _targets(self, position: int, vm: str) -> bool:
        """Whether the step at ``position`` names ``vm``."""
        return self.run.outcomes[position].vm == vm

    def _first(self, op: str, vm: str, start: int, end: int) -> int | None:
        """The first ``op`` step naming ``vm`` among positions ``start`` to ``end - 1``."""
        return next(
            (
                p
                for p in range(start, end)
                if self.run.outcomes[p].step.op == op and self._targets(p, vm)
            ),
            None,
        )

    def _manual_steps(self) -> Iterator[Result]:
        """PLAN008: the manual steps around each secondary's live migration, and their use."""
        outcomes = self.run.outcomes
        windows = self._windows()
        used: set[int] = set()
        for window in windows:
            used.update(
                p
                for p in (window.stop, window.connectivity, window.lag, window.start)
                if p is not None
            )
            for position in window.moves:
                yield self._window_result(window, position)
        for position, outcome in enumerate(outcomes):
            step = outcome.step
            if step.op == "switchover":
                yield self._switchover_services(outcome)
            if step.op not in _MISPLACED:
                continue  # not one of the vendor's steps 2-7 (a switchover, a confirmation)
            vm = outcome.vm or ""
            role = self.role(vm, position)
            if role is not None and role.active:
                message = (
                    f"{self.name(vm)} is the {role.value} at this step: the vendor's steps 2-7 "
                    "are for the secondary being moved (step 1: switch the pair over first)"
                )
                yield self.result("PLAN008", outcome, Status.FAIL, message, about=vm)
            elif position in used:
                yield self.result(
                    "PLAN008",
                    outcome,
                    Status.PASS,
                    f"{step.op} of {self.name(vm)} in its place around its live migration",
                    about=vm,
                )
            else:
                yield self.result(
                    "PLAN008", outcome, Status.FAIL, _MISPLACED[step.op](self.name(vm)), about=vm
                )

    def _window_result(self, window: _ServiceWindow, position: int) -> Result:
        """PLAN008 on one live migration of a secondary: the manual steps around it."""
        outcome = self.run.outcomes[position]
        name = self.name(window.vm)
        if all(p is None for p in (window.stop, window.connectivity, window.lag, window.start)):
            return self.result(
                "PLAN008",
                outcome,
                Status.FAIL,
                f"live migration of the secondary {name} without the vendor's manual steps: "
                "stop_services before it; check_connectivity, check_ha_lag and start_services "
                "after it (vendor steps 2-7)",
                about=window.vm,
            )
        after_move = window.moves[-1] + 1
        end = window.start if window.start is not None else len(self.run.outcomes)
        until = (
            f"before the {self.run.outcomes[window.start].step.op} at step "
            f"{self.number(window.start)}"
            if window.start is not None
            else "before the plan ends"
        )
        span = f"after {self.step_ref(window.moves[-1])} and {until}"
        missing: list[str] = []
        if window.stop is None:
            missing.append(
                "no stop_services before it: its services run during the move (steps 2-3)"
            )
        if window.connectivity is None:
            lag = self._first("check_ha_lag", window.vm, after_move, end)
            missing.append(
                f"no check_connectivity before the check_ha_lag at step {self.number(lag)} (step 5 "
                "comes first)"
                if lag is not None
                else f"no check_connectivity or check_ha_lag {span} (steps 5, 6)"
            )
        elif window.lag is None:
            early = self._first("check_ha_lag", window.vm, after_move, window.connectivity)
            connectivity = self.number(window.connectivity)
            missing.append(
                f"the check_ha_lag at step {self.number(early)} comes before the "
                f"check_connectivity at step {connectivity} (step 6 follows step 5)"
                if early is not None
                else f"no check_ha_lag after the check_connectivity at step {connectivity}, "
                f"{until} (step 6)"
            )
        if window.start is None:
            missing.append("its services are never started again (step 7: start_services)")
        if missing:
            return self.result(
                "PLAN008",
                outcome,
                Status.FAIL,
                f"live migration of the secondary {name} out of the vendor's procedure: "
                + "; ".join(missing),
                about=window.vm,
            )
        stop, connectivity, lag, start = (
            self.number(p) for p in (window.stop, window.connectivity, window.lag, window.start)
        )
        return self.result(
            "PLAN008",
            outcome,
            Status.PASS,
            f"services of {name} stopped at step {stop}; connectivity and HA lag checked at "
            f"steps {connectivity} and {lag}; services started at step {start}",
            about=window.vm,
        )

    def _switchover_services(self, outcome: StepOutcome) -> Result:
        """PLAN008 on a switchover: both members' HA services must run."""
        stopped = sorted(
            self.name(vm)
            for vm in outcome.before.services_stopped
            if vm in {c.vm for c in outcome.role_changes}
        )
        if stopped:
            return self.result(
                "PLAN008",
                outcome,
                Status.FAIL,
                f"switchover while the services of {', '.join(stopped)} are stopped; HA cannot "
                "switch over to a machine whose HA service is down: start_services first "
                "(vendor step 7)",
            )
        return self.result(
            "PLAN008", outcome, Status.PASS, "the services of both members run at the switchover"
        )

    # -- PLAN009: apart at every step -------------------------------------------------------

    def _apart_at_every_step(self) -> Iterator[Result]:
        """PLAN009: a step that puts a pair on one host for a while (not to the end)."""
        outcomes = self.run.outcomes
        initial = self.inventory(self.run.initial)
        for pair in initial.pairs.values():
            if pair.orphan or len(pair.members) < 2:
                continue
            members = {m.vm.moid for m in pair.members}
            together = [_shared_host(pair, o.after.snapshot) for o in outcomes]
            before = [_shared_host(pair, self.run.initial), *together[:-1]]
            if before[0] is not None:
                continue  # together before the plan: SA004's finding, not the plan's
            for position, outcome in enumerate(outcomes):
                if outcome.step.op == "maintenance" or not any(
                    m.vm in members for m in outcome.moves
                ):
                    continue  # maintenance is PLAN006's; other steps do not move the pair
                if together[position] is None:
                    hosts = sorted(
                        outcome.after.snapshot.hosts[host].name
                        for vm in members
                        if (host := outcome.after.snapshot.vms[vm].host) is not None
                    )
                    yield self.result(
                        "PLAN009",
                        outcome,
                        Status.PASS,
                        f"pair {pair.id} is on separate hosts after this step ({', '.join(hosts)})",
                        about=pair.id,
                    )
                    continue
                if before[position] is not None:
                    continue  # already together: reported where it began
                apart_again = next(
                    (p for p in range(position + 1, len(outcomes)) if together[p] is None), None
                )
                if apart_again is None:
                    continue  # together to the end: PLAN004
                during = ", ".join(
                    f"{outcomes[p].step.index} ({outcomes[p].step.op})"
                    for p in range(position + 1, apart_again)
                )
                yield self.result(
                    "PLAN009",
                    outcome,
                    Status.FAIL,
                    f"pair {pair.id} shares host {together[position]} after this step until "
                    f"{self.step_ref(apart_again)}"
                    + (f", through steps {during}" if during else "")
                    + "; a failure of that host takes down both members",
                    about=pair.id,
                )


def _shared_host(pair: Pair, state: Snapshot) -> str | None:
    """The name of a host two members of ``pair`` share in ``state``, if any."""
    hosts = [state.vms[m.vm.moid].host for m in pair.members if m.vm.moid in state.vms]
    placed = [h for h in hosts if h is not None]
    for host in placed:
        if placed.count(host) > 1:
            return state.hosts[host].name if host in state.hosts else host
    return None


_MISPLACED = {
    "stop_services": lambda name: (
        f"no live migration of {name} follows while its services are stopped; stop them "
        "just before moving the secondary (vendor steps 2-4)"
    ),
    "check_connectivity": lambda name: (
        f"not after a live migration of {name} and before its services start again "
        "(vendor step 5 checks the moved machine)"
    ),
    "check_ha_lag": lambda name: (
        f"not after the check_connectivity that follows a live migration of {name}, before its "
        "services start again (vendor step 6)"
    ),
    "start_services": lambda name: (
        f"no live migration of {name} since its services were stopped; start_services ends "
        "the vendor's steps around a move (vendor step 7)"
    ),
}


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
