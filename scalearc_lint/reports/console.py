"""The console summary printed by ``check``: "Act now", the findings, then a table by rule.

"Act now" and the order of the findings are the ranking of
:mod:`scalearc_lint.reports.triage`, in the HTML report's words.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TextIO

from scalearc_lint.engine.results import ResultsDocument
from scalearc_lint.engine.rule import Status
from scalearc_lint.reports.triage import StepSource, Triage, remediation_step, triage
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.text import printable

_COLOURS = {
    Status.FAIL: "\033[31m",
    Status.CRASHED: "\033[35m",
    Status.UNKNOWN: "\033[33m",
    Status.WAIVED: "\033[36m",
    Status.PASS: "\033[32m",
}
_RESET = "\033[0m"
_COLUMNS = (Status.PASS, Status.FAIL, Status.WAIVED, Status.UNKNOWN, Status.CRASHED)
#: The console lists this many objects under "Act now"; the HTML report has them all.
ACT_NOW_SHOWN = 10


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal that has it, and never when NO_COLOR is set."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM", "") != "dumb"


def _act_now(ranked: Triage, stream: TextIO, paint_fail: str) -> None:
    actions = ranked.actions
    stream.write(f"Act now: {len(actions)} object(s) fail, most urgent first\n")
    for action in actions[:ACT_NOW_SHOWN]:
        first, *rest = ranked.lines(action)
        stream.write(f"{action.position:3}. {paint_fail} {printable(first)}\n")
        for line in rest:
            stream.write(f"     {printable(line)}\n")
    if len(actions) > ACT_NOW_SHOWN:
        stream.write(f"     ... and {len(actions) - ACT_NOW_SHOWN} more, all listed below\n")
    stream.write("\n")


def render_console(
    document: ResultsDocument,
    stream: TextIO,
    inventories: Sequence[Inventory] = (),
    *,
    quiet: bool = False,
    steps: StepSource = remediation_step,
) -> None:
    """Print "Act now" and the non-passing results, most urgent first (unless quiet), then
    the per-rule table; ``inventories`` give each object's role, host, cluster and pool."""
    colour = use_colour(stream)

    def paint(status: Status, text: str) -> str:
        return f"{_COLOURS[status]}{text}{_RESET}" if colour else text

    if not quiet:
        ranked = triage(document, inventories, steps=steps)
        if ranked.actions:
            _act_now(ranked, stream, paint(Status.FAIL, "FAIL"))
        for r in ranked.ranked(document.results):
            if r.status is Status.PASS:
                continue
            where = f"{printable(r.object.vcenter)}: " if document.snapshots else ""
            label = paint(r.status, f"{r.status.value.upper():7}")
            waiver = f" ({printable(ranked.waiver_text(r))})" if r.waiver is not None else ""
            stream.write(
                f"{label} {r.rule} {r.severity.value:7} {where}{r.object.kind} "
                f"{printable(r.object.name)}: {printable(ranked.message(r))}{waiver}\n"
            )
        if any(r.status is not Status.PASS for r in document.results):
            stream.write("\n")
    per_rule: dict[str, Counter[Status]] = defaultdict(Counter)
    for r in document.results:
        per_rule[r.rule][r.status] += 1
    titles = {rule.id: printable(rule.title) for rule in document.rules}
    rule_ids = sorted(set(per_rule) | set(titles))
    # WAIVER001 and plugin ids can be longer than SA001: the id column fits the longest.
    width = max([8, *(len(rule_id) for rule_id in rule_ids)])
    # Whole words: a clipped "crashd" is one more thing to misread at 3 a.m.
    widths = [max(5, len(status.value)) for status in _COLUMNS]
    names = [f"{status.value:>{w}}" for status, w in zip(_COLUMNS, widths, strict=True)]
    stream.write(f"{'rule':{width}} {' '.join(names)}  title\n")
    for rule_id in rule_ids:
        counts = per_rule[rule_id]
        cells = [f"{counts[s]:>{w}}" for s, w in zip(_COLUMNS, widths, strict=True)]
        stream.write(f"{rule_id:{width}} {' '.join(cells)}  {titles.get(rule_id, '')}\n")
    s = document.summary
    total = (
        f"{s.pass_} passed, {s.fail} failed, {s.waived} waived, "
        f"{s.unknown} unknown, {s.crashed} crashed"
    )
    stream.write(f"\n{total}\n")
