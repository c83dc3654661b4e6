"""Waivers: accepted, owned, time-boxed exceptions to a rule, read from a YAML file.

Waivers come only from the file given with ``--waivers`` (kept in version
control, reviewed like code); never from vSphere tags or notes, which anyone
allowed to edit a VM could use to silence a rule. The format::

    waivers:
      - rule: SA008                       # a rule id (or PLANnnn for whatif plan steps)
        object: {name: "sa-beta-*"}       # exactly one of: instance_uuid, moid, name (glob)
        vcenter: vcenter.lab.example      # optional: only results of this vCenter
        reason: nightly backup snapshot, consolidated by the backup job
        owner: dba-team
        ticket: CHG-1234
        expires: 2026-12-31               # required: a date (valid through that day, UTC)
                                          # or a time (2026-12-31T18:00:00Z; no zone = UTC)

A waiver matches a result of its rule whose object has that instance UUID,
moid (``object.id``; for an HA pair the pair id) or a name matching the glob
(``*``, ``?``, ``[...]``, case-sensitive). A matching, unexpired waiver turns
``fail`` into ``waived`` and attaches a :class:`~scalearc_lint.engine.results.WaiverRef`;
the result stays in every report. Other statuses are never waived.

Expiry is judged at the run's as-of time (``--as-of``, default the snapshot's
``exported_at``; with several snapshots the latest), the same clock the rules
use, so re-checking a snapshot gives the same answer. A waiver is expired from
its ``expires`` instant on; an expired waiver waives nothing and is itself
reported as a ``WAIVER001`` failure (severity warning) naming the file and line.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import msgspec

from scalearc_lint.engine.results import (
    ObjectRef,
    Result,
    ResultsDocument,
    RuleInfo,
    Summary,
    WaiverRef,
    sorted_results,
)
from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.errors import InputError
from scalearc_lint.io.yamlfile import YamlDocument, load_yaml

#: Why the config file cannot set WAIVER001.
EXPIRED_REASON = (
    "it reports an expired entry of the --waivers file, so renew or remove that waiver instead"
)
EXPIRED_RULE = RuleInfo(
    id="WAIVER001",
    name="waiver-expired",
    title="Waivers are renewed or removed before they expire",
    severity=Severity.WARNING,
    scope="waiver",
    rationale=(
        "An expired waiver no longer hides its finding; keeping it in the file hides that the "
        "accepted exception has run out."
    ),
    reference="scalearc-lint waivers (docs/pre-change-and-nightly.md); not a vendor rule.",
    remediation=(
        "Fix the finding and delete the waiver, or agree a new expiry with its owner and "
        "update the entry."
    ),
)

_ENTRY_KEYS = ("rule", "object", "vcenter", "reason", "owner", "ticket", "expires")
_REQUIRED = ("rule", "object", "reason", "owner", "ticket", "expires")
_OBJECT_KEYS = ("instance_uuid", "moid", "name")


@dataclass(frozen=True, slots=True)
class Waiver:
    """One validated waiver entry."""

    rule: str
    by: str
    value: str
    vcenter: str | None
    reason: str
    owner: str
    ticket: str
    #: The first instant at which the waiver no longer applies.
    expires_at: datetime
    #: ``expires`` as written (normalised), shown in reports.
    expires: str
    source: str

    def matches(self, result: Result) -> bool:
        """Whether this waiver is about ``result`` (expiry aside)."""
        o = result.object
        if result.rule != self.rule or (self.vcenter is not None and o.vcenter != self.vcenter):
            return False
        if self.by == "instance_uuid":
            return bool(o.instance_uuid) and o.instance_uuid.lower() == self.value.lower()
        if self.by == "moid":
            return o.id == self.value
        return fnmatch.fnmatchcase(o.name, self.value)

    def expired(self, at: datetime) -> bool:
        """Whether the waiver has run out at ``at``."""
        return at >= self.expires_at

    def ref(self) -> WaiverRef:
        """What a waived result carries."""
        return WaiverRef(self.reason, self.owner, self.ticket, self.expires, self.source)

    def describe(self) -> str:
        """``SA008 on name 'sa-beta-*'``."""
        return f"{self.rule} on {self.by.replace('_', ' ')} {self.value!r}"


def load_waivers(path: str | Path, known_rules: Collection[str]) -> list[Waiver]:
    """Read and validate a waivers file; every problem is an InputError naming entry and line."""
    doc = load_yaml(path, what="waivers file")
    if not isinstance(doc.data, dict) or set(doc.data) != {"waivers"}:
        raise InputError(f"{doc.where(())}: a waivers file is a mapping with one key, waivers")
    entries = doc.data["waivers"]
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise InputError(f"{doc.where(('waivers',))}: waivers: expected a list of entries")
    return [_entry(doc, i, entry, known_rules) for i, entry in enumerate(entries)]


def _entry(doc: YamlDocument, index: int, raw: Any, known_rules: Collection[str]) -> Waiver:
    at = ("waivers", index)
    label = f"waiver {index + 1}"
    if isinstance(raw, dict) and isinstance(raw.get("rule"), str):
        label += f" ({raw['rule']})"

    def fail(message: str, *key: str | int) -> InputError:
        return InputError(f"{doc.where((*at, *key))}: {label}: {message}")

    if not isinstance(raw, dict):
        raise fail("expected a mapping with keys " + ", ".join(_REQUIRED))
    for key in raw:
        if key not in _ENTRY_KEYS:
            raise fail(f"unknown key {key!r} (known: {', '.join(_ENTRY_KEYS)})", key)
    for key in _REQUIRED:
        if key not in raw or raw[key] is None or raw[key] == "":
            raise fail(f"missing {key!r} (required: {', '.join(_REQUIRED)})")
    for key in ("rule", "reason", "owner", "ticket", "vcenter"):
        if key in raw and not isinstance(raw[key], str | int):
            raise fail(f"{key}: expected text", key)
    rule = str(raw["rule"]).strip()
    if rule not in known_rules:
        raise fail(f"unknown rule id {rule!r} (see `scalearc-lint rules --all`)", "rule")
    obj = raw["object"]
    if not isinstance(obj, dict) or len(obj) != 1 or next(iter(obj)) not in _OBJECT_KEYS:
        raise fail(
            "object: expected exactly one of " + ", ".join(f"{{{k}: ...}}" for k in _OBJECT_KEYS),
            "object",
        )
    ((by, value),) = obj.items()
    if not isinstance(value, str | int) or not str(value).strip():
        raise fail(f"object.{by}: expected non-empty text", "object", by)
    try:
        expires_at, expires = parse_expiry(raw["expires"])
    except ValueError as exc:
        raise fail(f"expires: {exc}", "expires") from None
    vcenter = raw.get("vcenter")
    return Waiver(
        rule=rule,
        by=by,
        value=str(value).strip(),
        vcenter=str(vcenter) if vcenter is not None else None,
        reason=str(raw["reason"]),
        owner=str(raw["owner"]),
        ticket=str(raw["ticket"]),
        expires_at=expires_at,
        expires=expires,
        source=doc.where(at),
    )


def parse_expiry(value: object) -> tuple[datetime, str]:
    """(first instant expired, normalised text) of a date (whole day, UTC) or an ISO time."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text)
        except ValueError:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"{text!r} is not a date (2026-12-31) or an ISO 8601 time"
                ) from None
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return _in_utc(aware), aware.isoformat()
    if isinstance(value, date):
        if value == date.max:
            # 9999-12-31, a common way to write "never": its end is past datetime's range.
            return datetime.max.replace(tzinfo=UTC), value.isoformat()
        end = datetime.combine(value, time(), tzinfo=UTC) + timedelta(days=1)
        return end, value.isoformat()
    raise ValueError(f"expected a date such as 2026-12-31, got {value!r}")


def _in_utc(value: datetime) -> datetime:
    """``value`` in UTC; a time whose UTC form would pass year 9999 (or precede year 1) is
    clamped there, so comparing it can never overflow."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        offset = value.utcoffset()
        extreme = datetime.max if offset is not None and offset < timedelta(0) else datetime.min
        return extreme.replace(tzinfo=UTC)


def judged_at(document: ResultsDocument) -> datetime:
    """The as-of time waivers are judged at: the latest as-of of the run's snapshots."""
    return max(info.as_of for info in [document.snapshot, *document.snapshots])


def apply_waivers(document: ResultsDocument, waivers: Sequence[Waiver]) -> ResultsDocument:
    """Waive matching failures and report expired waivers; no result is ever dropped."""
    if not waivers:
        return document
    at = judged_at(document)
    live = [w for w in waivers if not w.expired(at)]
    expired = [w for w in waivers if w.expired(at)]
    results = [_waive(r, live) for r in document.results]
    results += [_expired_result(w, at, document.results) for w in expired]
    results = sorted_results(results)
    rules = list(document.rules)
    if expired and all(info.id != EXPIRED_RULE.id for info in rules):
        rules.append(EXPIRED_RULE)
    return msgspec.structs.replace(
        document, results=results, summary=Summary.of(results), rules=rules
    )


def _waive(result: Result, waivers: Iterable[Waiver]) -> Result:
    if result.status is not Status.FAIL:
        return result
    waiver = next((w for w in waivers if w.matches(result)), None)
    if waiver is None:
        return result
    return msgspec.structs.replace(result, status=Status.WAIVED, waiver=waiver.ref())


def _expired_result(waiver: Waiver, at: datetime, results: Iterable[Result]) -> Result:
    hits = sum(1 for r in results if r.status is Status.FAIL and waiver.matches(r))
    return Result(
        EXPIRED_RULE.id,
        Status.FAIL,
        EXPIRED_RULE.severity,
        ObjectRef("waiver", waiver.source, f"{waiver.describe()} ({waiver.ticket})"),
        f"expired {waiver.expires} (as of {at.isoformat()}); it no longer waives "
        f"{hits} failing result(s); owner {waiver.owner}, ticket {waiver.ticket}: "
        "fix the finding or renew the waiver",
    )
