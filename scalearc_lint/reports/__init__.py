"""Report formats ``check`` writes: one renderer per format, all fed the same results.

A renderer turns the results document (and the inventories it was judged from, which
the HTML placement view needs) into the bytes of one file. Renderers present results;
they never judge anything themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from scalearc_lint.engine.results import ResultsDocument, encode_document
from scalearc_lint.reports import html, junit, sarif
from scalearc_lint.reports.triage import StepSource, remediation_step
from scalearc_lint.snapshot.inventory import Inventory


class Renderer(Protocol):
    """Turns results (and the inventories judged) into a file; ``steps`` gives each
    failure's next step (the rule's remediation, or the step of a ``fix`` plan)."""

    def __call__(
        self,
        document: ResultsDocument,
        inventories: Sequence[Inventory] = (),
        *,
        steps: StepSource = remediation_step,
    ) -> bytes:
        """The report's bytes."""
        ...


@dataclass(frozen=True, slots=True)
class ReportFormat:
    """An output format: its ``--option FILE`` and its renderer."""

    option: str
    help: str
    render: Renderer
    #: Whether it shows each failure's fix steps (``check`` works them out only then).
    shows_fix_steps: bool = False


def _json(
    document: ResultsDocument,
    inventories: Sequence[Inventory] = (),
    *,
    steps: StepSource = remediation_step,
) -> bytes:
    return encode_document(document)


FORMATS: tuple[ReportFormat, ...] = (
    ReportFormat("json", "JSON results (the documented contract)", _json),
    ReportFormat("html", "self-contained HTML report", html.render, shows_fix_steps=True),
    ReportFormat("junit", "JUnit XML, one testsuite per rule", junit.render),
    ReportFormat("sarif", "SARIF 2.1.0 log for code scanning", sarif.render, shows_fix_steps=True),
)
