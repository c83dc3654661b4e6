"""Compare a run with a baseline run: which findings are new, persisting or resolved.

Results are matched by stable identity, not by display name: the vCenter, the
rule, the object kind and the VM's instance UUID (a rename or a re-registration
with a new moid is the same VM); objects without an instance UUID (HA pairs,
hosts, clusters) by their id, which for a pair is the pair id. Plan steps
(``whatif``) are matched by step location and name.

Each result of the new run gets ``baseline``:

- a non-passing result (fail, waived, unknown, error) is ``persisting`` when the
  baseline has a result of the same identity in the same class (fail and waived
  are one class: a failure; unknown; error), else ``new``;
- a passing result is ``resolved`` when the baseline had a non-passing result of
  that identity, ``persisting`` when the baseline passed too, else ``new``.

Baseline findings whose identity has no result at all in the new run (the VM was
deleted, the rule disabled) are listed in ``comparison.gone``, marked resolved.
So a result set compared with itself is all ``persisting``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from scalearc_lint.engine.results import (
    BaselineState,
    Comparison,
    Result,
    ResultsDocument,
    decode_document,
    exit_code,
)
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.errors import InputError
from scalearc_lint.io.inputs import read_input_file, without_bom
from scalearc_lint.io.jsonfile import check_unique_keys
from scalearc_lint.text import printable

Identity = tuple[str, ...]

#: ``comparison.source`` of a ``whatif`` run: the plan is compared with the state without it.
WHATIF_SOURCE = "current state (without the plan)"

_CLASS = {
    Status.PASS: "pass",
    Status.FAIL: "failure",
    Status.WAIVED: "failure",
    Status.UNKNOWN: "unknown",
    Status.CRASHED: "crashed",
}


def identity(result: Result) -> Identity:
    """The stable identity a result is matched on across runs."""
    o = result.object
    if o.kind == "plan-step":
        return (o.vcenter, result.rule, o.kind, o.id, o.name)
    return (o.vcenter, result.rule, o.kind, o.instance_uuid or o.id)


def load_results(path: str | Path) -> ResultsDocument:
    """Read a ``--json`` results file, or raise InputError naming the problem."""
    data = without_bom(read_input_file(path, what="JSON results file"), path)
    check_unique_keys(data, path)
    try:
        document = decode_document(data)
    except (msgspec.DecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a scalearc-lint --json results file ({exc})") from None
    except RecursionError:
        raise InputError(
            f"{path}: not a scalearc-lint --json results file (nested too deeply)"
        ) from None
    return document


def _state(result: Result, before: list[Result]) -> BaselineState:
    classes = {_CLASS[r.status] for r in before}
    if result.status is Status.PASS:
        if classes - {"pass"}:
            return "resolved"
        return "persisting" if classes else "new"
    return "persisting" if _CLASS[result.status] in classes else "new"


def compare(
    document: ResultsDocument, baseline: ResultsDocument, *, source: str
) -> ResultsDocument:
    """``document`` with every result marked against ``baseline`` and a ``comparison``."""
    before: dict[Identity, list[Result]] = defaultdict(list)
    for result in baseline.results:
        before[identity(result)].append(result)
    marked = [
        msgspec.structs.replace(r, baseline=_state(r, before.get(identity(r), [])))
        for r in document.results
    ]
    present = {identity(r) for r in document.results}
    gone = [
        msgspec.structs.replace(r, baseline="resolved")
        for r in baseline.results
        if r.status is not Status.PASS and identity(r) not in present
    ]
    counts = {state: sum(r.baseline == state for r in marked) for state in ("new", "persisting")}
    comparison = Comparison(
        source=source,
        baseline=baseline.snapshot,
        new=counts["new"],
        persisting=counts["persisting"],
        resolved=sum(r.baseline == "resolved" for r in marked) + len(gone),
        gone=gone,
    )
    return msgspec.structs.replace(document, results=marked, comparison=comparison)


def new_failures(results: Iterable[Result]) -> list[Result]:
    """Failures the baseline did not have."""
    return [r for r in results if r.status is Status.FAIL and r.baseline == "new"]


def fixed(document: ResultsDocument) -> list[Result]:
    """Baseline findings that are gone or pass now."""
    comparison = document.comparison
    gone = comparison.gone if isinstance(comparison, Comparison) else []
    return [r for r in document.results if r.baseline == "resolved"] + list(gone)


def exit_code_new(results: Sequence[Result], fail_on: Severity | None) -> int:
    """Like :func:`exit_code`, but only new failures count (a crashed rule still gives 3)."""
    if any(r.status is Status.CRASHED for r in results):
        return 3
    return exit_code(new_failures(results), fail_on)


def comparison_text(document: ResultsDocument) -> str:
    """A few console lines: counts, then each new failure and each resolved finding."""
    comparison = document.comparison
    if not isinstance(comparison, Comparison):
        return ""
    whatif = comparison.source == WHATIF_SOURCE
    broken, mended = ("broken", "fixed") if whatif else ("new", "resolved")
    broken_results, mended_results = new_failures(document.results), fixed(document)
    lines = [
        f"against {comparison.source}: {len(broken_results)} {broken}, "
        f"{len(mended_results)} {mended} ({len(document.results)} results: "
        f"{comparison.new} new, {comparison.persisting} persisting)"
    ]
    for label, results in ((broken, broken_results), (mended, mended_results)):
        for r in results:
            lines.append(
                f"  {label:9} {r.rule} {r.severity.value:7} {r.object.kind} "
                f"{printable(r.object.name)}: {printable(r.message)}"
            )
    return "\n".join(lines) + "\n"
