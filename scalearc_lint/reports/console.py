"""The console summary printed by ``check``: findings first, then a table by rule."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from typing import TextIO

from scalearc_lint.engine.results import ResultsDocument
from scalearc_lint.engine.rule import Status
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


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal that has it, and never when NO_COLOR is set."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM", "") != "dumb"


def render_console(document: ResultsDocument, stream: TextIO, *, quiet: bool = False) -> None:
    """Print non-passing results (unless quiet) and the per-rule table."""
    colour = use_colour(stream)

    def paint(status: Status, text: str) -> str:
        return f"{_COLOURS[status]}{text}{_RESET}" if colour else text

    if not quiet:
        for r in document.results:
            if r.status is Status.PASS:
                continue
            where = f"{printable(r.object.vcenter)}: " if document.snapshots else ""
            label = paint(r.status, f"{r.status.value.upper():7}")
            waiver = ""
            if r.waiver is not None:
                w = r.waiver
                waiver = printable(f" (waived: {w.reason}; owner {w.owner}, expires {w.expires})")
            stream.write(
                f"{label} {r.rule} {r.severity.value:7} {where}{r.object.kind} "
                f"{printable(r.object.name)}: {printable(r.message)}{waiver}\n"
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
    header = f"{'rule':{width}} {'pass':>5} {'fail':>5} {'waived':>6} {'unknwn':>6} {'crashd':>6}"
    stream.write(header + "  title\n")
    for rule_id in rule_ids:
        counts = per_rule[rule_id]
        cells = [f"{counts[s]:>{w}}" for s, w in zip(_COLUMNS, (5, 5, 6, 6, 6), strict=True)]
        stream.write(f"{rule_id:{width}} {' '.join(cells)}  {titles.get(rule_id, '')}\n")
    s = document.summary
    total = (
        f"{s.pass_} passed, {s.fail} failed, {s.waived} waived, "
        f"{s.unknown} unknown, {s.crashed} crashed"
    )
    stream.write(f"\n{total}\n")
