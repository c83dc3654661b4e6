"""The self-contained HTML report: one file, inline CSS/JS/SVG, no request to any host.

Read top-down it answers what the person on call asks first: "Act now" (the failing
objects ranked by :mod:`scalearc_lint.reports.triage`, each with its next step), then the
counts, where the appliances run, each appliance with all its findings, and every result
by rule.

The page is server-rendered where it is bounded by the inventory's appliances and rules
(header, "Act now", summary chart, placement view, rule descriptions) and filled in the
browser from an embedded JSON table where it is bounded by the number of results (result
tables, the appliance list and each appliance's view): the browser then builds rows only
for what is shown, so 100,000 results load and filter in well under a second. A
Content-Security-Policy lets only the report's own script (by hash) run and forbids
every fetch, as a second wall behind Jinja's autoescaping.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket, BytecodeCache, FileSystemBytecodeCache
from markupsafe import Markup

from scalearc_lint.audit.baseline import fixed, new_failures
from scalearc_lint.engine.results import (
    Comparison,
    ObjectRef,
    PlanInfo,
    Result,
    ResultsDocument,
    RuleInfo,
)
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.io.resources import templates_dir
from scalearc_lint.reports.triage import (
    SEVERITY_ORDER,
    STATUS_ORDER,
    Action,
    StepSource,
    Subject,
    Triage,
    Urgency,
    expiry_text,
    fix_text,
    remediation_step,
    severity_rank,
    status_rank,
    triage,
    urgency,
)
from scalearc_lint.snapshot.inventory import Appliance, Inventory
from scalearc_lint.text import relative_age, with_ages

_ROLE_MARK = {"primary": "P", "secondary": "S", "standalone": "SA"}
NO_HOST = "(host not in snapshot)"
NO_CLUSTER = "(no cluster)"
#: "Act now" lists this many objects in the page; the appliance list has them all, in order.
ACT_NOW_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the summary chart (geometry computed here, so the SVG is plain markup)."""

    label: str
    count: int
    css: str
    y: int
    width: int


@dataclass(frozen=True, slots=True)
class Card:
    """An appliance as the placement view shows it."""

    name: str
    anchor: str
    role: str
    mark: str
    pair: str
    status: str
    shares_host: bool


@dataclass(frozen=True, slots=True)
class HostColumn:
    """A host and the appliances on it."""

    name: str
    state: str
    cards: list[Card]

    @property
    def has_shared_pair(self) -> bool:
        """Whether two members of one HA pair run here."""
        return any(card.shares_host for card in self.cards)


@dataclass(frozen=True, slots=True)
class ClusterPlacement:
    """One cluster's hosts that carry appliances."""

    name: str
    columns: list[HostColumn]
    idle_hosts: int


@dataclass(frozen=True, slots=True)
class VcenterPlacement:
    """Placement of one inventory's appliances."""

    vcenter: str
    clusters: list[ClusterPlacement]
    shared_pairs: int


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """A rule with its description and its result counts by status."""

    info: RuleInfo
    counts: dict[str, int]


# -- words beside times ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Moment:
    """A timestamp with its age at the report's as-of time."""

    at: datetime
    age: str

    @classmethod
    def of(cls, at: datetime, as_of: datetime) -> Moment:
        """``at`` seen from ``as_of``."""
        return cls(at, relative_age(at, as_of))


# -- summary ---------------------------------------------------------------------------


def _bars(counts: Iterable[tuple[str, int, str]], top: int, scale: int) -> list[Bar]:
    """Horizontal bars 22 px apart from ``top``, the longest ``scale`` px wide at most."""
    items = list(counts)
    largest = max((count for _, count, _ in items), default=0) or 1
    return [
        Bar(label, count, css, top + 22 * i, max(2, round(scale * count / largest)) if count else 0)
        for i, (label, count, css) in enumerate(items)
    ]


def status_counts(results: Sequence[Result]) -> dict[str, int]:
    """Results by status, worst first (every status present, zero or not)."""
    counts = Counter(r.status for r in results)
    return {status.value: counts[status] for status in STATUS_ORDER}


def severity_matrix(results: Sequence[Result]) -> dict[str, dict[str, int]]:
    """Results by status (worst first), then by severity."""
    counts = Counter((r.status, r.severity) for r in results)
    return {
        status.value: {sev.value: counts[(status, sev)] for sev in SEVERITY_ORDER}
        for status in STATUS_ORDER
    }


@dataclass(frozen=True, slots=True)
class ComparisonSummary:
    """What the summary says about a run compared with a baseline."""

    comparison: Comparison
    new_failures: int
    counts: dict[str, int]
    exported: Moment

    @classmethod
    def of(cls, document: ResultsDocument) -> ComparisonSummary | None:
        """The comparison of ``document``, or None for a plain run."""
        comparison = document.comparison
        if not isinstance(comparison, Comparison):
            return None
        counts = {
            "new": comparison.new,
            "persisting": comparison.persisting,
            "resolved": comparison.resolved,
        }
        exported = Moment.of(comparison.baseline.exported_at, document.snapshot.as_of)
        return cls(comparison, len(new_failures(document.results)), counts, exported)


# -- the objects results are about -----------------------------------------------------


class ObjectTable:
    """Every object of the report, numbered: results name objects by number, and the page
    links to an object's view with ``#o<number>``."""

    def __init__(
        self, subjects: Triage, results: Sequence[Result], inventories: Sequence[Inventory]
    ):
        self.triage = subjects
        self.refs: list[ObjectRef] = []
        self._index: dict[tuple[str, str, str], int] = {}
        #: Pair id -> number: a pair may have members in several vCenters.
        self._pairs: dict[str, int] = {}
        #: The object number of each result, in the order of ``results``.
        self.of_results = [self.number(result.object) for result in results]
        for inventory in inventories:
            for moid, appliance in inventory.appliances.items():
                vm = appliance.vm
                self.number(ObjectRef("vm", moid, vm.name, inventory.vcenter, vm.instance_uuid))
            for pair_id, pair in inventory.pairs.items():
                # A pair across vCenters is one object, reported by its home vCenter.
                if pair.home is inventory:
                    ref = ObjectRef("ha-pair", pair_id, pair.name, inventory.vcenter)
                    self._pairs[pair_id] = self.number(ref)
        # Members of pairs are linked from their pair (a member may be no appliance).
        for ref in list(self.refs):
            for member in self.triage.subjects.of(ref).members:
                self.number(member.ref)

    def number(self, ref: ObjectRef) -> int:
        """The number of ``ref`` (given one on first sight)."""
        key = (ref.vcenter, ref.kind, ref.id)
        number = self._index.get(key)
        if number is None:
            number = self._index[key] = len(self.refs)
            self.refs.append(ref)
        return number

    def anchor(self, ref: ObjectRef) -> str:
        """The fragment that opens the object's view."""
        return f"o{self.number(ref)}"

    def pair_of(self, subject: Subject) -> int:
        """The number of the object's HA pair, or -1."""
        if not subject.pair:
            return -1
        return self._pairs.get(subject.pair, -1)


# -- placement -------------------------------------------------------------------------


def _worst(statuses: Iterable[Status]) -> Status:
    return min(statuses, key=status_rank, default=Status.PASS)


def _host_state(inventory: Inventory, moid: str) -> str:
    host = inventory.host(moid)
    if host is None:
        return ""
    if host.in_maintenance:
        return "maintenance"
    return "" if host.connection_state == "connected" else host.connection_state


def placement(
    inventory: Inventory, results: Sequence[Result], objects: ObjectTable
) -> VcenterPlacement:
    """Hosts as columns with the appliances on them; members of one pair on one host marked.

    Card colours come from the results (the worst status of the appliance's own and its
    pair's results); which pair members share a host is read from the inventory as it is.
    """
    statuses: dict[tuple[str, str], list[Status]] = defaultdict(list)
    for r in results:
        # A pair's results are under its home vCenter, its members may be in others.
        if r.object.vcenter == inventory.vcenter or r.object.kind == "ha-pair":
            statuses[(r.object.kind, r.object.id)].append(r.status)

    by_host: dict[str, list[Appliance]] = defaultdict(list)
    for appliance in inventory.appliances.values():
        known = inventory.host(appliance.vm.host) is not None
        by_host[appliance.vm.host if known and appliance.vm.host else NO_HOST].append(appliance)

    by_cluster: dict[str, list[HostColumn]] = defaultdict(list)
    shared_pairs: set[str] = set()
    for host_moid, appliances in by_host.items():
        # Appliances whose host is unknown are not known to share one.
        pair_counts = Counter(a.pair for a in appliances if host_moid != NO_HOST and a.pair)
        cards = []
        for a in sorted(appliances, key=lambda a: (a.pair or "", a.vm.name)):
            shares = a.pair is not None and pair_counts[a.pair] > 1
            if shares:
                shared_pairs.add(a.pair or "")
            own = statuses.get(("vm", a.vm.moid), [])
            paired = statuses.get(("ha-pair", a.pair), []) if a.pair is not None else []
            ref = ObjectRef("vm", a.vm.moid, a.vm.name, inventory.vcenter, a.vm.instance_uuid)
            cards.append(
                Card(
                    name=a.vm.name,
                    anchor=objects.anchor(ref),
                    role=a.role.value,
                    mark=_ROLE_MARK[a.role.value],
                    pair=a.pair or "",
                    status=_worst([*own, *paired]).value,
                    shares_host=shares,
                )
            )
        host = inventory.host(host_moid)
        cluster = inventory.cluster(host.cluster) if host is not None else None
        column = HostColumn(
            host.name if host is not None else NO_HOST, _host_state(inventory, host_moid), cards
        )
        by_cluster[cluster.moid if cluster is not None else ""].append(column)

    clusters = []
    for cluster_moid, columns in by_cluster.items():
        cluster = inventory.cluster(cluster_moid)
        idle = len(cluster.hosts) - len(columns) if cluster is not None else 0
        name = cluster.name if cluster is not None else NO_CLUSTER
        clusters.append(ClusterPlacement(name, sorted(columns, key=lambda c: c.name), idle))
    clusters.sort(key=lambda c: (c.name == NO_CLUSTER, c.name))
    return VcenterPlacement(inventory.vcenter, clusters, len(shared_pairs))


# -- "Act now" -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActNowEntry:
    """An action as the page shows it (messages with ages, events as lines)."""

    action: Action
    anchor: str
    title: str
    message: str
    events: list[str]
    also: list[Result]
    #: Against a baseline (a what-if's is the current state): a finding is new.
    new: bool


def act_now_entries(
    ranked: Triage, objects: ObjectTable, titles: dict[str, str], limit: int
) -> list[ActNowEntry]:
    """The first ``limit`` actions, ready to show."""
    entries = []
    for action in ranked.actions[:limit]:
        entries.append(
            ActNowEntry(
                action,
                objects.anchor(action.subject.ref),
                titles.get(action.top.rule, ""),
                ranked.message(action.top),
                ranked.events(action),
                list(action.findings[1:]),
                any(r.baseline == "new" for r in action.findings),
            )
        )
    return entries


# -- the embedded data (filled into the page in the browser) ---------------------------


class _Interner:
    """A string table: the embedded data names each distinct string once."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.strings)
            self.strings.append(text)
        return index


def embedded_data(document: ResultsDocument, ranked: Triage, objects: ObjectTable) -> bytes:
    """The results and their objects as compact JSON: a string table, then rows of indexes.

    ``objects``, one row per object (numbered as :class:`ObjectTable` numbers them): kind,
    id, name, vcenter (strings), its place in "Act now" (0: none), role, host, cluster,
    pool (strings), its HA pair's object number or -1, the object numbers of its pair
    members, its events (strings, one line each); fields from the place on are left out at
    the end of a row when they hold nothing (0, the empty string, -1, no members or events).

    ``results``, one row per result: rule, status, severity (strings), object number,
    message with ages (string), next step (string or -1), waiver (index into ``waivers`` or
    -1), the fix plan's steps that repair it when they are not already the next step
    (``check``'s suggestion; string or -1), and only when the run was compared with a
    baseline its mark (new, persisting, resolved; string or -1); the -1s at the end of a
    row are left out. A waiver row: reason, owner, ticket, expiry with its age.

    ``rules``: each rule id with its title and urgency (strings): the result tables show
    an object's events beside the findings of a rule whose urgency is ``happened``.
    """
    compared = isinstance(document.comparison, Comparison)
    intern = _Interner()
    empty = intern("")
    # What every row repeats gets the smallest numbers, the shortest to write 100,000 times.
    statuses = {status: intern(status.value) for status in Status}
    severities = {severity: intern(severity.value) for severity in Severity}
    rule_ids = {rule.id: intern(rule.id) for rule in document.rules}
    for kind in ("vm", "ha-pair", "primary", "secondary", "standalone", "pair"):
        intern(kind)
    # An object row leaves out its trailing fields that hold nothing (most objects of a
    # hand-made document, or of a plugin's scope, have no role, host or pair).
    defaults: list[object] = [None] * 4 + [0] + [empty] * 4 + [-1, [], []]
    positions = {objects.number(a.subject.ref): a.position for a in ranked.actions}
    object_rows = []
    for number, ref in enumerate(objects.refs):
        subject = ranked.subjects.of(ref)
        as_of = ranked.as_of.get(ref.vcenter) or document.snapshot.as_of
        row: list[object] = [
            intern(ref.kind),
            intern(ref.id),
            intern(ref.name),
            intern(ref.vcenter),
            positions.get(number, 0),
            intern(subject.role),
            intern(subject.host),
            intern(subject.cluster),
            intern(subject.pool),
            objects.pair_of(subject),
            [objects.number(m.ref) for m in subject.members],
            [intern(e.text(as_of)) for e in subject.events],
        ]
        while row[-1] == defaults[len(row) - 1]:
            row.pop()
        object_rows.append(row)
    waivers: list[list[int]] = []
    rows = []
    messages: dict[tuple[str, str], int] = {}
    for r, number in zip(document.results, objects.of_results, strict=True):
        waiver = -1
        if r.waiver is not None:
            waiver = len(waivers)
            w = r.waiver
            expiry = expiry_text(w, ranked.as_of_for(r))
            waivers.append([intern(w.reason), intern(w.owner), intern(w.ticket), intern(expiry)])
        # One regex pass per distinct message and vCenter, not per result.
        key = (r.message, r.object.vcenter)
        message = messages.get(key)
        if message is None:
            message = messages[key] = intern(ranked.message(r))
        step = ranked.step(r) if r.status is Status.FAIL else None
        fix = fix_text(step) if step is not None else ""
        rule = rule_ids.get(r.rule)
        if rule is None:
            rule = rule_ids[r.rule] = intern(r.rule)
        result_row = [
            rule,
            statuses[r.status],
            severities[r.severity],
            number,
            message,
            intern(step.text) if step is not None else -1,
            waiver,
            intern(fix) if fix else -1,
        ]
        if compared:
            result_row.append(intern(r.baseline) if isinstance(r.baseline, str) else -1)
        while result_row[-1] == -1:
            result_row.pop()
        rows.append(result_row)
    rules = {
        rule.id: [intern(rule.title), intern(urgency(rule.id).value)] for rule in document.rules
    }
    data = {
        "strings": intern.strings,
        "objects": object_rows,
        "results": rows,
        "waivers": waivers,
        "rules": rules,
    }
    return msgspec.json.encode(data)


def script_safe_json(data: bytes) -> Markup:
    """JSON that cannot end its ``<script>`` element or open a comment inside it.

    ``<``, ``>``, ``&`` and ``'`` only occur inside JSON strings, where the escapes
    mean the same characters.
    """
    for raw, escaped in ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026")):
        data = data.replace(raw, escaped)
    return Markup(data.replace(b"'", b"\\u0027").decode())


# -- the page --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Asset:
    text: Markup
    csp_hash: str


@cache
def _asset(name: str) -> _Asset:
    """A static CSS/JS file from the templates folder, inlined verbatim, with its CSP hash."""
    text = (templates_dir() / name).read_text(encoding="utf-8")
    if "</" in text:
        raise ValueError(f"{name}: must not contain '</' (it is inlined into the page)")
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return _Asset(Markup(text), f"'sha256-{digest}'")


class _TemplateCache(FileSystemBytecodeCache):
    """The templates as Jinja compiled them, kept between runs: compiling report.html.j2
    costs about 45 ms, every run. Jinja keeps them in a directory of the user's own
    under the temp directory (made private, checked to be theirs), keyed by template
    and Jinja version and checked against the template's source, and writes them
    atomically. A cache that cannot be read or written is just not used."""

    def load_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _template_cache() -> BytecodeCache | None:
    try:
        return _TemplateCache(pattern="scalearc-lint-%s.cache")
    except (OSError, RuntimeError):  # no private temp directory to be had
        return None


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir()),
        bytecode_cache=_template_cache(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _rule_groups(document: ResultsDocument) -> list[RuleGroup]:
    per_rule: dict[str, list[Result]] = defaultdict(list)
    for r in document.results:
        per_rule[r.rule].append(r)
    infos = {rule.id: rule for rule in document.rules}
    for rule_id in per_rule.keys() - infos.keys():
        # A result whose rule is not described (e.g. a hand-made document): still shown.
        infos[rule_id] = RuleInfo(rule_id, "", "", per_rule[rule_id][0].severity, "", "", "", "")
    return [
        RuleGroup(infos[rule_id], status_counts(per_rule[rule_id])) for rule_id in sorted(infos)
    ]


def render(
    document: ResultsDocument,
    inventories: Sequence[Inventory] = (),
    *,
    steps: StepSource = remediation_step,
) -> bytes:
    """The HTML report for ``document``; ``inventories`` give the placement view and each
    object's context; ``steps`` the next step of each failure (default: its remediation)."""
    results = document.results
    ranked = triage(document, inventories, steps=steps)
    objects = ObjectTable(ranked, results, inventories)
    statuses = status_counts(results)
    matrix = severity_matrix(results)
    failing_by_severity = [
        (sev.value, matrix["fail"][sev.value] + matrix["crashed"][sev.value], f"sev-{sev.value}")
        for sev in SEVERITY_ORDER
    ]
    snapshots = document.snapshots or [document.snapshot]
    titles = {rule.id: rule.title for rule in document.rules}
    script, style = _asset("report.js"), _asset("report.css")
    csp = (
        f"default-src 'none'; script-src {script.csp_hash}; style-src {style.csp_hash}; "
        "base-uri 'none'; form-action 'none'"
    )
    page = (
        _environment()
        .get_template("report.html.j2")
        .render(
            document=document,
            snapshots=[(s, Moment.of(s.exported_at, s.as_of)) for s in snapshots],
            vcenters=[s.vcenter for s in snapshots],
            statuses=statuses,
            matrix=matrix,
            severities=[sev.value for sev in SEVERITY_ORDER],
            status_bars=_bars(((s, n, f"st-{s}") for s, n in statuses.items()), 24, 220),
            severity_bars=_bars(failing_by_severity, 24 + 22 * 5 + 30, 220),
            act_now=act_now_entries(ranked, objects, titles, ACT_NOW_SHOWN),
            act_now_total=len(ranked.actions),
            urgencies=list(Urgency),
            placements=[placement(inv, results, objects) for inv in inventories],
            rule_groups=_rule_groups(document),
            multi_vcenter=bool(document.snapshots),
            compared=ComparisonSummary.of(document),
            plan=document.plan if isinstance(document.plan, PlanInfo) else None,
            data=script_safe_json(embedded_data(document, ranked, objects)),
            fix_text=fix_text,
            script=script.text,
            style=style.text,
            csp=csp,
        )
    )
    return page.encode("utf-8")


def render_diff(document: ResultsDocument) -> bytes:
    """``diff --html``: a compared document as one self-contained page (no script), each
    table worst status and errors first, a relative age beside every timestamp."""

    def ordered(results: Iterable[Result]) -> list[Result]:
        return sorted(
            results, key=lambda r: (status_rank(r.status), severity_rank(r.severity), r.sort_key())
        )

    as_of = document.snapshot.as_of
    comparison = document.comparison
    if not isinstance(comparison, Comparison):
        raise ValueError("diff --html needs a document compared with a baseline")
    by_state: dict[str, list[Result]] = defaultdict(list)
    for r in document.results:
        if isinstance(r.baseline, str) and r.status is not Status.PASS:
            by_state[r.baseline].append(r)
    page = (
        _environment()
        .get_template("diff.html.j2")
        .render(
            document=document,
            comparison=comparison,
            baseline_exported=Moment.of(comparison.baseline.exported_at, as_of),
            exported=Moment.of(document.snapshot.exported_at, as_of),
            new=ordered(by_state["new"]),
            persisting=ordered(by_state["persisting"]),
            resolved=ordered(fixed(document)),
            message=lambda r: with_ages(r.message, as_of),
            expiry=lambda w: expiry_text(w, as_of),
        )
    )
    return page.encode("utf-8")
