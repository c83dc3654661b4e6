"""What to do first: failing results ranked for the person on call, one entry per object.

Every report shows this one ranking in its own form, so a run reads the same everywhere:
the HTML report's "Act now" and per-appliance view, the console's first lines, the order
of JUnit testcases and of SARIF results (with SARIF's ``rank``). The rank of a failing
result, most urgent first:

1. severity: error, warning, info;
2. an active appliance (primary, standalone, or a pair with a primary) *at risk now*, that
   is with a finding whose urgency is ``happened`` or ``exposed``, before everything else;
3. urgency: ``happened`` (an event shows the harm was done: a live migration, a revert; go
   and check the appliance now), ``exposed`` (nothing stops it at any moment: DRS may move
   the appliance, one host failure takes both members of a pair), ``latent`` (a gap that
   does harm together with something else: a failover, a move);
4. role: active before secondary; then vCenter, object name and rule.

An object's entry ("action") is led by its most urgent finding and carries the next step:
today the rule's remediation with the object's names filled in (:func:`remediation_step`).
``fix`` (and ``check``, from the plan ``fix`` would write) hands its plan's steps in
through the same :data:`StepSource` hook (:func:`planned_steps`).

Renderers only present: the context shown beside a finding (role, host, cluster, pool,
pair members, the hosts an event moved a VM between) is read from the inventory as it is,
and nothing here judges compliance.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from scalearc_lint.audit.waivers import parse_expiry
from scalearc_lint.change.fix import FixPlan, PlannedStep
from scalearc_lint.change.plan import param_text
from scalearc_lint.engine.results import ObjectRef, Result, ResultsDocument, RuleInfo, WaiverRef
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.snapshot.identification import Role
from scalearc_lint.snapshot.inventory import Appliance, Inventory, Pair
from scalearc_lint.snapshot.model import Event
from scalearc_lint.text import relative_age, with_ages

#: Worst first: a table lists crashes and failures before unknowns, waivers and passes.
STATUS_ORDER = (Status.CRASHED, Status.FAIL, Status.UNKNOWN, Status.WAIVED, Status.PASS)
#: Errors first, in every table and list.
SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)
_STATUS_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}
_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITY_ORDER)}


class Urgency(StrEnum):
    """How close the harm a failing rule describes is."""

    HAPPENED = "happened"
    EXPOSED = "exposed"
    LATENT = "latent"

    @property
    def meaning(self) -> str:
        """What the word means to the person on call."""
        return _URGENCY_MEANING[self]


_URGENCY_MEANING = {
    Urgency.HAPPENED: "an event shows it happened: check the appliance now",
    Urgency.EXPOSED: "nothing stops it happening at any moment",
    Urgency.LATENT: "a gap that does harm together with a failover or a move",
}
_URGENCY_RANK = {urgency: rank for rank, urgency in enumerate(Urgency)}

#: Rules whose failures are more urgent than ``latent`` (the rest, plugins and plan findings
#: included, are latent). Ids from DESIGN.md's rule table. A rule has one urgency: SA013's
#: error (HA did restart a pair member) ranks first by its severity anyway.
URGENCY_BY_RULE: Mapping[str, Urgency] = {
    "SA009": Urgency.HAPPENED,  # an active appliance was vMotioned
    "SA010": Urgency.HAPPENED,  # an appliance was reverted to a snapshot
    "SA012": Urgency.HAPPENED,  # DRS migrated an appliance
    "SA016": Urgency.HAPPENED,  # vMotioned without static MACs / notifying switches
    "SA004": Urgency.EXPOSED,  # one host failure takes both members of the pair
    "SA006": Urgency.EXPOSED,  # DRS may vMotion the appliance at any moment
    "SA013": Urgency.EXPOSED,  # vSphere HA may restart it without ScaleArc support
    "SA014": Urgency.EXPOSED,  # a limit throttles it under its own load, on an idle host too
}


def urgency(rule_id: str) -> Urgency:
    """The urgency of a failure of ``rule_id``."""
    return URGENCY_BY_RULE.get(rule_id, Urgency.LATENT)


def status_rank(status: Status) -> int:
    """0 for the worst status (crashed), 4 for pass."""
    return _STATUS_RANK[status]


def severity_rank(severity: Severity) -> int:
    """0 for error, then warning, then info."""
    return _SEVERITY_RANK[severity]


# -- what a result is about ------------------------------------------------------------

#: Event kinds that move a VM between hosts (the others, reverts, happen in place).
MIGRATION_KINDS = frozenset({"migrate", "relocate", "hot-migrate", "drs-migrate"})
#: What a report says for a host an event does not name.
HOST_NOT_RECORDED = "a host the event does not name"


@dataclass(frozen=True, slots=True)
class EventNote:
    """A migration or revert of an appliance, with the hosts as names people know."""

    type: str
    kind: str
    created: datetime
    source: str
    destination: str
    user: str

    def text(self, as_of: datetime) -> str:
        """One line: ``DrsVmMigratedEvent at ... (3 days ago): moved from esx03 to esx01``."""
        when = f"{self.created.isoformat()} ({relative_age(self.created, as_of)})"
        moved = f": moved from {self.source} to {self.destination}"
        route = moved if self.kind in MIGRATION_KINDS else ""
        by = f", by {self.user}" if self.user else ""
        return f"{self.type} at {when}{route}{by}"


def migration_route(event: Event, inventory: Inventory) -> tuple[str, str]:
    """The source and destination hosts of an event as names (the moid when the host is not in
    the snapshot, :data:`HOST_NOT_RECORDED` when the event does not say)."""

    def name(moid: str | None) -> str:
        if moid is None:
            return HOST_NOT_RECORDED
        host = inventory.host(moid)
        return host.name if host is not None else moid

    return name(event.source_host), name(event.dest_host)


@dataclass(frozen=True, slots=True)
class Member:
    """Another VM of the object's HA pair (or a member of the pair the object is)."""

    ref: ObjectRef
    role: str
    host: str


@dataclass(frozen=True, slots=True)
class Subject:
    """An object of results with what the person on call needs to find it.

    ``role`` is the appliance's role, ``pair`` for an HA pair, empty when unknown (an
    object the inventories do not hold, or a result document read without them).
    """

    ref: ObjectRef
    role: str = ""
    active: bool = False
    pair: str = ""
    host: str = ""
    cluster: str = ""
    pool: str = ""
    members: tuple[Member, ...] = ()
    events: tuple[EventNote, ...] = ()

    @property
    def label(self) -> str:
        """``vm sa-billing-01``, ``ha-pair billing``."""
        return f"{self.ref.kind} {self.ref.name}"

    @property
    def secondary(self) -> Member | None:
        """The secondary among the pair's other members, if one is."""
        return next((m for m in self.members if m.role == Role.SECONDARY.value), None)

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) of what is known: role, pair, host, cluster, pool."""
        facts = [
            ("role", self.role if self.role != "pair" else ""),
            ("HA pair", self.pair),
            ("host", self.host),
            ("cluster", self.cluster),
            ("pool", self.pool),
        ]
        return [(label, value) for label, value in facts if value]

    def context(self) -> str:
        """One line of facts: ``primary; host esx03; cluster Prod-A; pool ScaleArc``."""
        parts = [value if label == "role" else f"{label} {value}" for label, value in self.facts()]
        if self.role == "pair" and self.members:
            parts.insert(0, ", ".join(f"{m.ref.name} ({m.role}, {m.host})" for m in self.members))
        return "; ".join(parts)


def _placement(
    host: str | None, cluster: str | None, pool: str | None, inventory: Inventory
) -> tuple[str, str, str]:
    """Names of a host, cluster and pool (the moid when the object is not in the snapshot)."""
    h, c, p = inventory.host(host), inventory.cluster(cluster), inventory.pool(pool)
    return (
        h.name if h is not None else (host or ""),
        c.name if c is not None else (cluster or ""),
        p.name if p is not None else (pool or ""),
    )


class Subjects:
    """Looks up the :class:`Subject` of any result's object in the run's inventories."""

    def __init__(self, inventories: Sequence[Inventory]) -> None:
        self._inventories = {inv.vcenter: inv for inv in inventories}
        self._cache: dict[tuple[str, str, str], Subject] = {}

    def inventory(self, vcenter: str) -> Inventory | None:
        """The inventory of ``vcenter`` (the only one, when results name no vCenter)."""
        inventory = self._inventories.get(vcenter)
        if inventory is None and not vcenter and len(self._inventories) == 1:
            inventory = next(iter(self._inventories.values()))
        return inventory

    def of(self, ref: ObjectRef) -> Subject:
        """What is known about ``ref``."""
        key = (ref.vcenter, ref.kind, ref.id)
        subject = self._cache.get(key)
        if subject is None:
            subject = self._cache[key] = self._describe(ref)
        return subject

    def _describe(self, ref: ObjectRef) -> Subject:
        inventory = self.inventory(ref.vcenter)
        if inventory is None:
            return Subject(ref)
        if ref.kind == "vm":
            appliance = inventory.appliances.get(ref.id)
            if appliance is not None:
                return self._appliance(ref, appliance, inventory)
            vm = inventory.snapshot.vms.get(ref.id)
            if vm is not None:
                host, cluster, pool = _placement(vm.host, vm.cluster, vm.resource_pool, inventory)
                return Subject(ref, host=host, cluster=cluster, pool=pool)
        elif ref.kind == "ha-pair":
            pair = inventory.pairs.get(ref.id)
            if pair is not None:
                return self._pair(ref, pair, inventory)
        return Subject(ref)

    def _member(self, vm_moid: str, role: str, inventory: Inventory) -> Member:
        vm = inventory.snapshot.vms[vm_moid]
        host = inventory.host(vm.host)
        ref = ObjectRef("vm", vm.moid, vm.name, inventory.vcenter, vm.instance_uuid)
        return Member(ref, role, host.name if host is not None else (vm.host or ""))

    def _members(self, pair: Pair) -> tuple[Member, ...]:
        """Every VM naming the pair, each looked up in its own vCenter (moids repeat across
        vCenters); those whose identification is in doubt say so instead of a role."""
        return (
            *(self._member(m.vm.moid, m.role.value, m.inventory) for m in pair.members),
            *(
                self._member(u.vm.moid, "role in doubt (ID001)", u.inventory)
                for u in pair.unidentified
            ),
        )

    def _appliance(self, ref: ObjectRef, appliance: Appliance, inventory: Inventory) -> Subject:
        vm = appliance.vm
        pair = inventory.pairs.get(appliance.pair) if appliance.pair is not None else None
        members = tuple(
            m
            for m in (self._members(pair) if pair is not None else ())
            if (m.ref.vcenter, m.ref.id) != (inventory.vcenter, vm.moid)
        )
        log = inventory.snapshot.events
        events = []
        for index in inventory.events_by_vm.get(vm.moid, []):
            event = log.items[index]
            source, destination = migration_route(event, inventory)
            events.append(
                EventNote(event.type, event.kind, event.created, source, destination, event.user)
            )
        events.sort(key=lambda e: e.created, reverse=True)
        host, cluster, pool = _placement(vm.host, vm.cluster, vm.resource_pool, inventory)
        return Subject(
            ref,
            role=appliance.role.value,
            active=appliance.active,
            pair=appliance.pair or "",
            host=host,
            cluster=cluster,
            pool=pool,
            members=members,
            events=tuple(events),
        )

    def _pair(self, ref: ObjectRef, pair: Pair, inventory: Inventory) -> Subject:
        members = self._members(pair)
        # Moids of different vCenters are never the same host or cluster.
        hosts = {(id(m.inventory), m.vm.host) for m in pair.members}
        clusters = {(id(m.inventory), m.vm.cluster) for m in pair.members}
        # Host and cluster are the pair's only when its members share them.
        host, cluster, _ = _placement(
            hosts.pop()[1] if len(hosts) == 1 else None,
            clusters.pop()[1] if len(clusters) == 1 else None,
            None,
            pair.members[0].inventory if pair.members else inventory,
        )
        active = any(m.role.active for m in pair.members)
        return Subject(ref, role="pair", active=active, host=host, cluster=cluster, members=members)


def expiry_text(waiver: WaiverRef, as_of: datetime) -> str:
    """A waiver's expiry with its distance: ``2026-12-31 (in 37 days)``."""
    try:
        expires_at, _ = parse_expiry(waiver.expires)
    except ValueError:
        return waiver.expires
    return f"{waiver.expires} ({relative_age(expires_at, as_of)})"


# -- the next step ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FixSteps:
    """The steps of a ``fix`` plan that repair one finding (or prevent a repeat of it)."""

    #: ``step 3/16: set_mac sa-1 (nic 4000, mac 00:50:56:00:00:01)``, in plan order.
    steps: tuple[str, ...]
    #: The plan file they are in ("": a plan not written, as ``check`` works it out).
    plan: str
    #: Whether ``fix`` proved the plan with whatif (``check``'s steps are not proven).
    proven: bool

    @property
    def text(self) -> str:
        """The steps on one line, after the plan file's name when there is one (a report
        labels steps that are not proven as suggested)."""
        steps = "; ".join(self.steps)
        return f"{self.plan}, {steps}" if self.plan else steps


@dataclass(frozen=True, slots=True)
class NextStep:
    """What to do about one finding; ``source`` says where the words come from; ``fix``,
    the steps of a fix plan that repair it, when there are any."""

    text: str
    source: str = "remediation"
    fix: FixSteps | None = None


def fix_text(step: NextStep) -> str:
    """The fix steps a report shows beside the next step ("" when the next step already is
    the fix plan's, or there is none)."""
    if step.fix is None or step.source == "fix":
        return ""
    return step.fix.text


#: Gives the next step for a failing result: ``(result, subject, rule) -> step``. The default
#: is :func:`remediation_step`; ``fix`` passes one that returns its plan's step.
StepSource = Callable[[Result, Subject, RuleInfo | None], NextStep | None]


def fill_names(text: str, subject: Subject) -> str:
    """A remediation's generic nouns replaced by the object's names.

    "the appliance" becomes the VM's name, "the secondary" and "both members" name the
    pair's members, "Cluster >" and "the cluster" name the cluster, "another host" says
    which host to leave. What the object does not know stays as written.
    """
    name = subject.ref.name
    appliance = subject.ref.kind == "vm" and subject.role not in ("", "pair")
    names = [m.ref.name for m in subject.members]
    if subject.role != "pair":
        names = [name, *names]
    secondary = subject.secondary
    replacements: list[tuple[str, str | None]] = [
        (r"\bthe appliance's\b", f"{name}'s" if appliance else None),
        (r"\b[Tt]he appliances?\b", name if appliance else None),
        (
            r"\bthe secondary\b",
            name
            if subject.role == Role.SECONDARY.value
            else f"the secondary {secondary.ref.name}"
            if secondary is not None
            else None,
        ),
        (r"\bboth members\b", f"both members ({' and '.join(names)})" if len(names) == 2 else None),
        (r"\bCluster >", f"Cluster {subject.cluster} >" if subject.cluster else None),
        (r"\bthe cluster\b", f"cluster {subject.cluster}" if subject.cluster else None),
        (r"\banother host\b", f"a host other than {subject.host}" if subject.host else None),
    ]
    for pattern, replacement in replacements:
        if replacement is not None:
            # Names may hold backslashes: escaped, re.sub puts them in literally.
            text = re.sub(pattern, replacement.replace("\\", "\\\\"), text)
    return text


def remediation_step(result: Result, subject: Subject, rule: RuleInfo | None) -> NextStep | None:
    """The rule's remediation with the object's names filled in (None without one)."""
    if rule is None or not rule.remediation:
        return None
    return NextStep(fill_names(rule.remediation, subject))


def _step_text(step: PlannedStep) -> str:
    params = ", ".join(
        f"{key} {param_text(value)}" for key, value in step.params.items() if key != "note"
    )
    return f"{step.op} {step.target}" + (f" ({params})" if params else "")


def planned_steps(
    plans: Sequence[tuple[FixPlan, str]],
    fallback: StepSource = remediation_step,
    *,
    proven: bool = True,
) -> StepSource:
    """Each finding's next step with the ``fix`` plan's numbered steps that repair it (or
    prevent a repeat), in the plan written to the given path ("" when not written).

    A proven plan (``fix``) gives those steps as the next step; an unproven one (``check``
    works the plan out without living it) keeps the rule's remediation as the next step and
    adds the steps as a suggestion. A finding no step repairs gets the remediation, and
    why fix has no step for it.
    """
    by_finding: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    unplanned: dict[tuple[str, str, str, str], str] = {}
    where: dict[str, str] = {}
    for plan, path in plans:
        where[plan.vcenter] = path
        total = len(plan.steps)
        for number, step in enumerate(plan.steps, 1):
            text = f"step {number}/{total}: {_step_text(step)}"
            for finding in step.repairs:
                by_finding[(plan.vcenter, finding.rule, finding.kind, finding.id)].append(text)
            for finding in step.prevents:
                key = (plan.vcenter, finding.rule, finding.kind, finding.id)
                by_finding[key].append(f"{text}, which prevents a repeat")
        for item in plan.unplanned:
            f = item.finding
            unplanned[(plan.vcenter, f.rule, f.kind, f.id)] = item.reason

    def source(result: Result, subject: Subject, rule: RuleInfo | None) -> NextStep | None:
        o = result.object
        key = (o.vcenter, result.rule, o.kind, o.id)
        steps = by_finding.get(key)
        step = fallback(result, subject, rule)
        if steps:
            fix = FixSteps(tuple(steps), where.get(o.vcenter, ""), proven)
            if proven or step is None:
                unwritten = "" if fix.plan else "the plan scalearc-lint fix writes, "
                return NextStep(unwritten + fix.text, source="fix", fix=fix)
            return NextStep(step.text, step.source, fix)
        if key in unplanned and step is not None:
            return NextStep(f"{step.text} (no fix step: {unplanned[key]})", step.source)
        return step

    return source


# -- the ranking -----------------------------------------------------------------------


def _role_rank(subject: Subject) -> int:
    return 0 if subject.active else 1


def finding_key(result: Result, subject: Subject) -> tuple[int, int, int, int, str, str, str]:
    """Sort key of a failing result, most urgent first (see the module docstring)."""
    level = _URGENCY_RANK[urgency(result.rule)]
    at_risk_now = subject.active and level < _URGENCY_RANK[Urgency.LATENT]
    return (
        severity_rank(result.severity),
        0 if at_risk_now else 1,
        level,
        _role_rank(subject),
        result.object.vcenter,
        result.object.name,
        result.rule,
    )


@dataclass(frozen=True, slots=True)
class Action:
    """One entry of "Act now": an object with failing results and its next step."""

    position: int
    subject: Subject
    #: The object's failing results, most urgent first.
    findings: tuple[Result, ...]
    step: NextStep | None

    @property
    def top(self) -> Result:
        """The finding that ranks the object."""
        return self.findings[0]

    @property
    def urgency(self) -> Urgency:
        """The urgency of the leading finding."""
        return urgency(self.top.rule)


@dataclass(frozen=True, slots=True)
class Triage:
    """A run ranked for the person on call: the actions, and what each report needs of them."""

    actions: list[Action]
    subjects: Subjects
    steps: dict[Result, NextStep]
    #: Place (1-based) of each failing result among all failing results, each ranked by its
    #: own :func:`finding_key` (actions group them by object).
    positions: dict[Result, int]
    as_of: dict[str, datetime]
    #: The action each failing result belongs to.
    action_of: dict[Result, Action]

    def subject(self, result: Result) -> Subject:
        """The subject of ``result``."""
        return self.subjects.of(result.object)

    def step(self, result: Result) -> NextStep | None:
        """The next step for a failing ``result``."""
        return self.steps.get(result)

    def position(self, result: Result) -> int | None:
        """Where a failing ``result`` stands among all failing results (1 = most urgent)."""
        return self.positions.get(result)

    def as_of_for(self, result: Result) -> datetime:
        """The as-of time of the result's snapshot (ages are computed at it)."""
        return self.as_of.get(result.object.vcenter) or next(iter(self.as_of.values()))

    def message(self, result: Result) -> str:
        """The result's message with a relative age after every timestamp in it."""
        return with_ages(result.message, self.as_of_for(result))

    def events(self, action: Action) -> list[str]:
        """The object's latest events (three at most) when a finding is about one."""
        if not any(urgency(r.rule) is Urgency.HAPPENED for r in action.findings):
            return []
        as_of = self.as_of_for(action.top)
        return [event.text(as_of) for event in action.subject.events[:3]]

    def lines(self, action: Action) -> list[str]:
        """The action in words, as the console and JUnit print it: what, where, next step."""
        top = action.top
        context = action.subject.context()
        # With several vCenters, a name alone may not say which one.
        where = f"{top.object.vcenter}: " if len(self.as_of) > 1 else ""
        lines = [where + action.subject.label + (f" ({context})" if context else "")]
        lines.append(
            f"{top.rule} {top.severity.value}, {action.urgency.value}: {self.message(top)}"
        )
        lines += [f"event: {text}" for text in self.events(action)]
        if action.step is not None:
            lines.append(f"next step: {action.step.text}")
        if len(action.findings) > 1:
            also = ", ".join(f"{r.rule} {r.severity.value}" for r in action.findings[1:])
            lines.append(f"also failing: {also}")
        return lines

    def waiver_text(self, result: Result) -> str:
        """``waived: reason (owner ..., ticket ..., expires 2026-12-31 (in 37 days))``."""
        waiver = result.waiver
        if waiver is None:
            return "waived"
        expires = expiry_text(waiver, self.as_of_for(result))
        return (
            f"waived: {waiver.reason} (owner {waiver.owner}, ticket {waiver.ticket}, "
            f"expires {expires})"
        )

    def ranked(self, results: Iterable[Result]) -> list[Result]:
        """``results`` in report order: failures as ranked, then by status and severity."""
        return sorted(results, key=self._order)

    def _order(self, result: Result) -> tuple[int, int, int]:
        position = self.positions.get(result)
        if position is not None:
            return (0, position, 0)
        return (1, status_rank(result.status), severity_rank(result.severity))


def _ranked_findings(
    subject: Subject, findings: list[Result]
) -> tuple[Subject, tuple[Result, ...]]:
    return subject, tuple(sorted(findings, key=lambda r: finding_key(r, subject)))


def triage(
    document: ResultsDocument,
    inventories: Sequence[Inventory] = (),
    *,
    steps: StepSource = remediation_step,
) -> Triage:
    """Rank the document's failing results by object, with the next step for each finding."""
    subjects = Subjects(inventories)
    rules = {rule.id: rule for rule in document.rules}
    by_object: dict[tuple[str, str, str], list[Result]] = defaultdict(list)
    for result in document.results:
        if result.status is Status.FAIL:
            o = result.object
            by_object[(o.vcenter, o.kind, o.id)].append(result)
    entries = [_ranked_findings(subjects.of(f[0].object), f) for f in by_object.values()]
    entries.sort(key=lambda entry: finding_key(entry[1][0], entry[0]))
    actions = []
    found_steps: dict[Result, NextStep] = {}
    for number, (subject, findings) in enumerate(entries, 1):
        for result in findings:
            step = steps(result, subject, rules.get(result.rule))
            if step is not None:
                found_steps[result] = step
        actions.append(Action(number, subject, findings, found_steps.get(findings[0])))
    # Lists of single results (SARIF, JUnit, the console's findings) rank each finding by
    # its own key: an error of the second object comes before a warning of the first.
    keyed = [(finding_key(r, a.subject), r) for a in actions for r in a.findings]
    keyed.sort(key=lambda item: item[0])
    positions = {result: place for place, (_, result) in enumerate(keyed, 1)}
    snapshots = [document.snapshot, *document.snapshots]
    as_of = {s.vcenter: s.as_of for s in snapshots}
    action_of = {result: action for action in actions for result in action.findings}
    return Triage(actions, subjects, found_steps, positions, as_of, action_of)
