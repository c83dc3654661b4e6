"""Results of a run and the ``--json`` results document (a contract; see DESIGN.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec

from scalearc_lint import __version__
from scalearc_lint.engine.rule import Rule, Severity, Status


class ObjectRef(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a result is about: an appliance VM, an HA pair, or the object of a plugin's scope."""

    kind: str
    id: str
    name: str
    vcenter: str = ""
    #: The VM's instance UUID, stable across renames (baselines match on it).
    instance_uuid: str = ""


#: Where a result stands against a baseline run (``check --baseline``, ``whatif``, ``diff``).
BaselineState = Literal["new", "persisting", "resolved"]


class WaiverRef(msgspec.Struct, frozen=True):
    """The waiver that turned a failure into ``waived``."""

    reason: str
    owner: str
    ticket: str
    expires: str
    source: str = ""


class Result(msgspec.Struct, frozen=True):
    """One rule's verdict on one object."""

    rule: str
    status: Status
    severity: Severity
    object: ObjectRef
    message: str
    waiver: WaiverRef | None = None
    #: Only when the run was compared with a baseline (``scalearc_lint.audit.baseline``); left out
    #: of the JSON otherwise, so the DESIGN.md contract is unchanged for plain runs.
    baseline: BaselineState | msgspec.UnsetType = msgspec.UNSET

    def sort_key(self) -> tuple[str, str, str, str, str]:
        """Deterministic order: vCenter, rule, object kind, name, id."""
        o = self.object
        return (o.vcenter, self.rule, o.kind, o.name, o.id)


class ToolInfo(msgspec.Struct, frozen=True):
    """Which tool wrote a results document."""

    name: str = "scalearc-lint"
    version: str = __version__


class SnapshotInfo(msgspec.Struct, frozen=True):
    """Which snapshot was judged, and at what time."""

    sha256: str
    vcenter: str
    exported_at: datetime
    as_of: datetime
    path: str = ""


class Summary(msgspec.Struct, frozen=True, rename={"pass_": "pass"}):
    """Counts by status."""

    pass_: int = 0
    fail: int = 0
    waived: int = 0
    unknown: int = 0
    crashed: int = 0

    @classmethod
    def of(cls, results: Iterable[Result]) -> Summary:
        """Count results by status."""
        counts = Counter(r.status.value for r in results)
        return cls(
            counts["pass"], counts["fail"], counts["waived"], counts["unknown"], counts["crashed"]
        )


class RuleInfo(msgspec.Struct, frozen=True):
    """A rule's description as reports show it."""

    id: str
    name: str
    title: str
    severity: Severity
    scope: str
    rationale: str
    reference: str
    remediation: str

    @classmethod
    def of(cls, rule: Rule) -> RuleInfo:
        """Describe ``rule``."""
        return cls(
            rule.id,
            rule.name,
            rule.title,
            rule.severity,
            rule.scope,
            rule.rationale,
            rule.reference,
            rule.remediation,
        )


class Comparison(msgspec.Struct, frozen=True):
    """How a run's results compare with a baseline run (counts of ``Result.baseline``)."""

    #: The baseline results file, or ``current state`` for ``whatif``.
    source: str
    #: The snapshot the baseline run judged.
    baseline: SnapshotInfo
    new: int = 0
    persisting: int = 0
    resolved: int = 0
    #: Baseline findings whose rule and object have no result at all now (object gone).
    gone: list[Result] = []


class PlanInfo(msgspec.Struct, frozen=True):
    """The change plan a ``whatif`` run applied: its results judge the planned state."""

    path: str
    description: str = ""
    steps: int = 0


#: Version of the results document. 2: a rule's crash is status ``crashed`` (``error`` in
#: version 1, easily confused with the severity) and ``summary.crashed`` counts it.
RESULTS_VERSION = 2


class ResultsDocument(msgspec.Struct, frozen=True, kw_only=True):
    """The ``--json`` output; ``snapshots`` lists every input when several were checked."""

    version: int = RESULTS_VERSION
    tool: ToolInfo
    snapshot: SnapshotInfo
    results: list[Result]
    summary: Summary
    rules: list[RuleInfo] = []
    snapshots: list[SnapshotInfo] = []
    #: Only when compared with a baseline (additive to the DESIGN.md contract).
    comparison: Comparison | msgspec.UnsetType = msgspec.UNSET
    #: Only for ``whatif``: the plan whose planned state the results judge (additive).
    plan: PlanInfo | msgspec.UnsetType = msgspec.UNSET


def sorted_results(results: Iterable[Result]) -> list[Result]:
    """Results in their one deterministic order."""
    return sorted(results, key=Result.sort_key)


def exit_code(results: Sequence[Result], fail_on: Severity | None) -> int:
    """3 if a rule crashed, 1 if a failure is at/above ``fail_on`` (None: never), else 0."""
    if any(r.status is Status.CRASHED for r in results):
        return 3
    if fail_on is not None and any(
        r.status is Status.FAIL and r.severity.rank >= fail_on.rank for r in results
    ):
        return 1
    return 0


def encode_document(document: ResultsDocument) -> bytes:
    """The results document as indented JSON."""
    return msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n"


def decode_document(data: bytes) -> ResultsDocument:
    """Parse a results document of any version (raises msgspec errors, or ValueError for a
    version this release does not know; callers turn them into InputError)."""
    raw = msgspec.json.decode(data)
    if isinstance(raw, dict):
        version = raw.get("version", 1)
        if version == 1:
            raw = _upgrade_v1(raw)
        elif version != RESULTS_VERSION:
            raise ValueError(f"results version {version!r} is not one this release reads (1, 2)")
    return msgspec.convert(raw, ResultsDocument)


def _upgrade_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """A version-1 document in version 2's words: status and summary ``error`` -> ``crashed``."""

    def results(items: object) -> object:
        if not isinstance(items, list):
            return items
        return [
            {**r, "status": "crashed"} if isinstance(r, dict) and r.get("status") == "error" else r
            for r in items
        ]

    upgraded = {**raw, "version": RESULTS_VERSION, "results": results(raw.get("results"))}
    summary = raw.get("summary")
    if isinstance(summary, dict) and "error" in summary:
        upgraded["summary"] = {("crashed" if k == "error" else k): v for k, v in summary.items()}
    comparison = raw.get("comparison")
    if isinstance(comparison, dict) and "gone" in comparison:
        upgraded["comparison"] = {**comparison, "gone": results(comparison["gone"])}
    return upgraded
