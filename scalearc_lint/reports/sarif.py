"""SARIF 2.1.0 for code-scanning tools.

One run. Every rule is a ``reportingDescriptor`` with its rationale, reference and
remediation as help text. Failures are results of ``kind: fail`` with a level from the
severity; waived failures carry an external ``suppression`` with the waiver; unknown
results are ``kind: review`` with ``level: none``, as the standard requires of any kind
but ``fail``. Passing results are left out (code scanning lists every
result it receives as an alert). A rule crash is a tool execution notification and
makes the invocation unsuccessful.

Against a baseline (``check --baseline``, ``whatif``) each result carries SARIF's
``baselineState``: ``new``, or ``unchanged`` for a persisting finding. SARIF's state for a
finding the baseline had and this run does not is ``absent``; such resolved findings pass
now (or their object is gone), so, like every pass, they are left out: code scanning
raises an alert for every result it receives, whatever its ``kind`` or ``baselineState``,
and closes an alert by itself when its result stops coming. The run's ``properties``
carry the comparison's source and counts. ``baselineGuid`` is not set: the baseline is a
``--json`` results file, not a SARIF run with a ``guid`` to point at.

Results come in the ranking of :mod:`scalearc_lint.reports.triage` (failures most urgent
first). A failure's ``rank`` (0-100, SARIF's priority) is its place in that ranking, 100
for the most urgent; its message ends with the next step, and its ``properties`` carry
"Act now" (the object's place and the urgency) and the next step. Messages give a
relative age after every timestamp, counted at the as-of time.

A result's vSphere object is a logical location (``vcenter/kind/id``). Code scanning
also insists on a physical location, so each result points at line 1 of the snapshot
file it came from (repository-relative when the snapshot path was given relative).

Fixes: SARIF's ``result.fixes`` (§3.55) are edits of artifacts — each ``fix`` needs
``artifactChanges`` with regions to delete and text to insert, which a tool can apply to
the files it names. The repair of a finding here is a change in vCenter, not an edit of
the snapshot the result points at, and the plan that carries it is a file ``fix``
writes, not one of the run's artifacts; presenting either as ``fixes`` would invite a
viewer to "apply" an edit that repairs nothing. So ``fixes`` is never emitted: a
failure's fix steps go in ``properties.fix`` (``steps``: the plan's numbered steps that
repair it; ``plan``: the plan file, empty when ``check`` worked the steps out without
writing a plan; ``proven``: whether ``fix`` proved the plan with whatif), and the
message's "Next step" names them when ``fix`` wrote the plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

import msgspec

from scalearc_lint.engine.results import (
    BaselineState,
    Comparison,
    ObjectRef,
    Result,
    ResultsDocument,
    RuleInfo,
    SnapshotInfo,
)
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.reports.triage import StepSource, Triage, remediation_step, triage, urgency
from scalearc_lint.snapshot.inventory import Inventory

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
#: SARIF 2.1.0 ``result.baselineState`` (§3.27.24) for each of our baseline marks.
BASELINE_STATES: dict[BaselineState, str] = {
    "new": "new",
    "persisting": "unchanged",
    "resolved": "absent",
}

Json = dict[str, Any]


def artifact_uri(path: str) -> str:
    """The snapshot path as a SARIF URI: kept when relative, reduced to its name when not."""
    pure = PurePath(path) if path else PurePath("snapshot.json")
    relative = pure if not pure.is_absolute() else PurePath(pure.name)
    return quote(relative.as_posix())


def fully_qualified_name(obj: ObjectRef) -> str:
    """The object's stable logical name: ``vcenter/kind/id``."""
    return f"{obj.vcenter}/{obj.kind}/{obj.id}"


def fingerprint(result: Result) -> str:
    """Identifies the same finding across runs: rule and object (instance UUID survives renames)."""
    obj = result.object
    key = "\x00".join((result.rule, obj.vcenter, obj.kind, obj.instance_uuid or obj.id))
    return hashlib.sha256(key.encode()).hexdigest()


def _descriptor(rule: RuleInfo) -> Json:
    help_text = (
        f"{rule.rationale}\n\nReference: {rule.reference}\n\nRemediation: {rule.remediation}"
    )
    help_markdown = (
        f"{rule.rationale}\n\n**Reference:** {rule.reference}\n\n"
        f"**Remediation:** {rule.remediation}"
    )
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {"tags": ["scalearc", "vsphere", rule.scope], "reference": rule.reference},
    }


def _location(result: Result, uris: dict[str, str]) -> Json:
    obj = result.object
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": uris.get(obj.vcenter, "snapshot.json")},
            "region": {"startLine": 1},
        },
        "logicalLocations": [
            {
                "name": obj.name,
                "fullyQualifiedName": fully_qualified_name(obj),
                "kind": "resource",
            }
        ],
    }


def _rank(result: Result, ranked: Triage) -> float | None:
    """SARIF ``rank`` (§3.27.29, higher is more important) from the place in "Act now"."""
    position = ranked.position(result)
    if position is None:
        return None
    total = len(ranked.positions)
    return round(100 * (total - position + 1) / total, 2)


def _result(
    result: Result, ranked: Triage, rule_index: dict[str, int], uris: dict[str, str]
) -> Json:
    obj = result.object
    text = f"{obj.kind} {obj.name}: {ranked.message(result)}"
    step = ranked.step(result) if result.status is Status.FAIL else None
    if step is not None:
        text += f"\nNext step: {step.text}"
    entry: Json = {
        "ruleId": result.rule,
        "kind": "review" if result.status is Status.UNKNOWN else "fail",
        # SARIF 2.1.0 §3.27.10: a result whose kind is not "fail" has level "none".
        "level": "none" if result.status is Status.UNKNOWN else _LEVELS[result.severity],
        "message": {"text": text},
        "locations": [_location(result, uris)],
        "partialFingerprints": {"scalearcObject/v1": fingerprint(result)},
        "properties": {
            "status": result.status.value,
            "object": {"kind": obj.kind, "id": obj.id, "name": obj.name, "vcenter": obj.vcenter},
        },
    }
    if result.rule in rule_index:
        entry["ruleIndex"] = rule_index[result.rule]
    rank = _rank(result, ranked)
    if rank is not None:
        action = ranked.action_of[result]
        entry["rank"] = rank
        entry["properties"]["actNow"] = {
            "position": action.position,
            "of": len(ranked.actions),
            "urgency": urgency(result.rule).value,
        }
    if step is not None:
        entry["properties"]["nextStep"] = step.text
        if step.fix is not None:
            entry["properties"]["fix"] = {
                "steps": list(step.fix.steps),
                "plan": step.fix.plan,
                "proven": step.fix.proven,
            }
    if isinstance(result.baseline, str):
        entry["baselineState"] = BASELINE_STATES[result.baseline]
    if result.status is Status.WAIVED:
        suppression: Json = {"kind": "external", "status": "accepted"}
        if result.waiver is not None:
            waiver = result.waiver
            suppression["justification"] = waiver.reason
            suppression["properties"] = {
                "owner": waiver.owner,
                "ticket": waiver.ticket,
                "expires": waiver.expires,
                "source": waiver.source,
            }
        entry["suppressions"] = [suppression]
    return entry


def _notification(
    result: Result, ranked: Triage, rule_index: dict[str, int], uris: dict[str, str]
) -> Json:
    descriptor: Json = {"id": result.rule}
    if result.rule in rule_index:
        descriptor["index"] = rule_index[result.rule]
    return {
        "level": "error",
        "message": {"text": ranked.message(result)},
        "locations": [_location(result, uris)],
        "associatedRule": descriptor,
    }


def _snapshot_properties(info: SnapshotInfo) -> Json:
    return {
        "vcenter": info.vcenter,
        "sha256": info.sha256,
        "exportedAt": info.exported_at.isoformat(),
        "asOf": info.as_of.isoformat(),
    }


def _comparison_properties(comparison: Comparison) -> Json:
    return {
        "source": comparison.source,
        "baselineSnapshot": _snapshot_properties(comparison.baseline),
        "new": comparison.new,
        "persisting": comparison.persisting,
        "resolved": comparison.resolved,
    }


def render(
    document: ResultsDocument,
    inventories: Sequence[Inventory] = (),
    *,
    steps: StepSource = remediation_step,
) -> bytes:
    """The results as a SARIF 2.1.0 log."""
    ranked = triage(document, inventories, steps=steps)
    snapshots = document.snapshots or [document.snapshot]
    uris = {info.vcenter: artifact_uri(info.path) for info in snapshots}
    rule_index = {rule.id: i for i, rule in enumerate(document.rules)}
    crashes = [r for r in document.results if r.status is Status.CRASHED]
    reported = (Status.FAIL, Status.WAIVED, Status.UNKNOWN)
    run: Json = {
        "tool": {
            "driver": {
                "name": document.tool.name,
                "version": document.tool.version,
                "semanticVersion": document.tool.version,
                "rules": [_descriptor(rule) for rule in document.rules],
            }
        },
        "invocations": [
            {
                "executionSuccessful": not crashes,
                "toolExecutionNotifications": [
                    _notification(r, ranked, rule_index, uris) for r in crashes
                ],
            }
        ],
        "artifacts": [
            {"location": {"uri": uris[info.vcenter]}, "hashes": {"sha-256": info.sha256}}
            for info in snapshots
        ],
        "results": [
            _result(r, ranked, rule_index, uris)
            for r in ranked.ranked(document.results)
            if r.status in reported
        ],
        "properties": {"snapshots": [_snapshot_properties(info) for info in snapshots]},
    }
    if isinstance(document.comparison, Comparison):
        run["properties"]["comparison"] = _comparison_properties(document.comparison)
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return msgspec.json.format(msgspec.json.encode(log), indent=2) + b"\n"
