"""One lint run from files to a results document: the shared core of ``check`` and friends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scalearc_lint.audit.waivers import EXPIRED_REASON, EXPIRED_RULE
from scalearc_lint.change.planlint import PLAN_RULES
from scalearc_lint.engine.appliance_id import ALWAYS_ON_REASON, ID001
from scalearc_lint.engine.budget import DEFAULT_RULE_TIMEOUT
from scalearc_lint.engine.config import Config, load_config
from scalearc_lint.engine.evaluate import (
    LoadedRule,
    discover_rules,
    evaluate,
    identify_appliances,
)
from scalearc_lint.engine.results import (
    ResultsDocument,
    RuleInfo,
    SnapshotInfo,
    Summary,
    ToolInfo,
)
from scalearc_lint.errors import InputError
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.loader import LoadedSnapshot, load_snapshots


@dataclass(frozen=True)
class RunInputs:
    """Everything a run reads, already loaded and validated."""

    snapshots: list[LoadedSnapshot]
    rules: list[LoadedRule]
    config: Config
    as_of: datetime | None
    #: Seconds each rule may take on one snapshot (None: no limit); see engine.budget.
    rule_timeout: float | None = DEFAULT_RULE_TIMEOUT


def parse_as_of(text: str | None) -> datetime | None:
    """``--as-of``: ISO 8601 (a time without zone is taken as UTC) or ``now``."""
    if text is None:
        return None
    if text.strip().lower() == "now":
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--as-of: {text!r} is not an ISO 8601 time such as 2026-11-25T06:00:00Z"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def load_inputs(
    snapshot_paths: Sequence[str | Path],
    *,
    config_path: str | Path | None = None,
    rules_dirs: Sequence[str | Path] = (),
    as_of: str | None = None,
    rule_timeout: float | None = DEFAULT_RULE_TIMEOUT,
) -> RunInputs:
    """Load rules, config and snapshots; every problem is an InputError."""
    rules = discover_rules(rules_dirs)
    # One config file serves check and whatif, so it may set the plan rules either way.
    config = load_config(
        config_path,
        [*(item.rule for item in rules), *PLAN_RULES, ID001],
        locked=[(EXPIRED_RULE, EXPIRED_REASON)],
        always_on={ID001.id: ALWAYS_ON_REASON},
    )
    snapshots = [loaded for path in snapshot_paths for loaded in load_snapshots(path)]
    seen: dict[str, str] = {}
    for loaded in snapshots:
        source = loaded.snapshot.source
        key = source.instance_uuid or source.vcenter
        if key in seen:
            raise InputError(
                f"{loaded.path}: same vCenter ({source.vcenter}) as {seen[key]}; "
                "give one snapshot per vCenter"
            )
        seen[key] = loaded.path
    return RunInputs(snapshots, rules, config, parse_as_of(as_of), rule_timeout or None)


def identification_gaps(inputs: RunInputs) -> list[str]:
    """Warnings for snapshots where appliances may be missed: tags or attributes unread."""
    if inputs.config.selection.by == "name":
        return []
    warnings = []
    for loaded in inputs.snapshots:
        missing = Inventory(loaded.snapshot).identification_unread()
        if missing:
            warnings.append(
                f"{loaded.path}: {' and '.join(missing)} could not be read (see the snapshot's "
                "'unreadable'); appliances identified by them are not linted"
            )
    return warnings


def inventories(inputs: RunInputs) -> list[Inventory]:
    """One inventory view per snapshot, its appliances identified (within the time budget)."""
    invs = [
        Inventory(s.snapshot, as_of=inputs.as_of, selection=inputs.config.selection)
        for s in inputs.snapshots
    ]
    for inventory in invs:
        identify_appliances(inventory, inputs.rule_timeout)
    return invs


def run(inputs: RunInputs, invs: Sequence[Inventory] | None = None) -> ResultsDocument:
    """Evaluate every rule on every snapshot and assemble the results document."""
    invs = list(invs) if invs is not None else inventories(inputs)
    results = evaluate(invs, inputs.rules, inputs.config, timeout=inputs.rule_timeout)
    infos = [
        SnapshotInfo(
            sha256=s.sha256,
            vcenter=s.snapshot.source.vcenter,
            exported_at=s.snapshot.exported_at,
            as_of=inv.as_of,
            path=s.path,
        )
        for s, inv in zip(inputs.snapshots, invs, strict=True)
    ]
    enabled = [item.rule for item in inputs.rules if inputs.config.settings(item.rule).enabled]
    return ResultsDocument(
        tool=ToolInfo(),
        snapshot=infos[0],
        results=results,
        summary=Summary.of(results),
        rules=[ID001, *(RuleInfo.of(rule) for rule in enabled)],
        snapshots=infos if len(infos) > 1 else [],
    )
