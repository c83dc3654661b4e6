"""The self-contained HTML report: one file, inline CSS/JS/SVG, no request to any host.

The page is server-rendered where it is bounded by the inventory's appliances and rules
(header, summary chart, placement view, rule descriptions) and filled in the browser from
an embedded JSON table where it is bounded by the number of results: the browser then
builds rows only for what a filter shows, so 100,000 results load and filter in well
under a second. A Content-Security-Policy lets only the report's own script (by hash)
run and forbids every fetch, as a second wall behind Jinja's autoescaping.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from scalearc_lint.audit.baseline import new_failures
from scalearc_lint.engine.results import Comparison, PlanInfo, Result, ResultsDocument, RuleInfo
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.io.resources import templates_dir
from scalearc_lint.snapshot.inventory import Appliance, Inventory

#: Worst first: the status a placement card shows is the worst of its results.
STATUS_ORDER = (Status.CRASHED, Status.FAIL, Status.UNKNOWN, Status.WAIVED, Status.PASS)
SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)
_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}
_ROLE_MARK = {"primary": "P", "secondary": "S", "standalone": "SA"}
NO_HOST = "(host not in snapshot)"
NO_CLUSTER = "(no cluster)"


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
    moid: str
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
        return cls(comparison, len(new_failures(document.results)), counts)


# -- placement -------------------------------------------------------------------------


def _worst(statuses: Iterable[Status]) -> Status:
    return min(statuses, key=_RANK.__getitem__, default=Status.PASS)


def _host_state(inventory: Inventory, moid: str) -> str:
    host = inventory.host(moid)
    if host is None:
        return ""
    if host.in_maintenance:
        return "maintenance"
    return "" if host.connection_state == "connected" else host.connection_state


def placement(inventory: Inventory, results: Sequence[Result]) -> VcenterPlacement:
    """Hosts as columns with the appliances on them; members of one pair on one host marked.

    Card colours come from the results (the worst status of the appliance's own and its
    pair's results); which pair members share a host is read from the inventory as it is.
    """
    statuses: dict[tuple[str, str], list[Status]] = defaultdict(list)
    for r in results:
        if r.object.vcenter == inventory.vcenter:
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
            cards.append(
                Card(
                    name=a.vm.name,
                    moid=a.vm.moid,
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


# -- results table (filled in the browser) ---------------------------------------------


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


def results_data(document: ResultsDocument) -> bytes:
    """The results as compact JSON: a string table and one row of string indexes per result.

    Row: rule, status, severity, kind, name, id, message, vcenter, waiver (index into
    ``waivers`` or -1), and only when the run was compared with a baseline, its mark (new,
    persisting, resolved). A waiver row: reason, owner, ticket, expires.
    """
    compared = isinstance(document.comparison, Comparison)
    intern = _Interner()
    waivers: list[list[int]] = []
    rows = []
    for r in document.results:
        o = r.object
        waiver = -1
        if r.waiver is not None:
            waiver = len(waivers)
            w = r.waiver
            waivers.append([intern(w.reason), intern(w.owner), intern(w.ticket), intern(w.expires)])
        row = [
            intern(r.rule),
            intern(r.status.value),
            intern(r.severity.value),
            intern(o.kind),
            intern(o.name),
            intern(o.id),
            intern(r.message),
            intern(o.vcenter),
            waiver,
        ]
        if compared:
            row.append(intern(r.baseline) if isinstance(r.baseline, str) else -1)
        rows.append(row)
    data = {"strings": intern.strings, "results": rows, "waivers": waivers}
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


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir()),
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


def render(document: ResultsDocument, inventories: Sequence[Inventory] = ()) -> bytes:
    """The HTML report for ``document``; ``inventories`` feed the placement view."""
    results = document.results
    statuses = status_counts(results)
    matrix = severity_matrix(results)
    failing_by_severity = [
        (sev.value, matrix["fail"][sev.value] + matrix["crashed"][sev.value], f"sev-{sev.value}")
        for sev in SEVERITY_ORDER
    ]
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
            snapshots=document.snapshots or [document.snapshot],
            statuses=statuses,
            matrix=matrix,
            severities=[sev.value for sev in SEVERITY_ORDER],
            status_bars=_bars(((s, n, f"st-{s}") for s, n in statuses.items()), 24, 220),
            severity_bars=_bars(failing_by_severity, 24 + 22 * 5 + 30, 220),
            placements=[placement(inv, results) for inv in inventories],
            rule_groups=_rule_groups(document),
            multi_vcenter=bool(document.snapshots),
            compared=ComparisonSummary.of(document),
            plan=document.plan if isinstance(document.plan, PlanInfo) else None,
            data=script_safe_json(results_data(document)),
            script=script.text,
            style=style.text,
            csp=csp,
        )
    )
    return page.encode("utf-8")
