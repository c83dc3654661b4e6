"""Rule discovery (find, load, validate) and evaluation with per-object isolation."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

import msgspec

from scalearc_lint.engine.appliance_id import identification_results
from scalearc_lint.engine.budget import OutOfTime, TimeBudget
from scalearc_lint.engine.config import Config, RuleSettings
from scalearc_lint.engine.results import ObjectRef, Result, sorted_results
from scalearc_lint.engine.rule import (
    RESERVED_ID_PREFIXES,
    RULE_ID_PATTERN,
    RULE_NAME_PATTERN,
    Rule,
    Severity,
    Status,
    Verdict,
    reserved_prefix,
)
from scalearc_lint.errors import InputError, UserInterrupt
from scalearc_lint.io.resources import builtin_rules_dir
from scalearc_lint.snapshot.inventory import (
    Appliance,
    Estate,
    Inventory,
    Unidentified,
    identification_doubt,
)
from scalearc_lint.text import clipped, describe_exception

ENTRY_POINT_GROUP = "scalearc_lint.rules"
_SCOPES = ("appliance", "pair", "vm", "host", "cluster")


@dataclass(frozen=True, slots=True)
class LoadedRule:
    """A rule and where it came from (shown in errors and in ``scalearc-lint rules``)."""

    rule: Rule
    source: str


# -- find -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FileCandidate:
    path: Path
    origin: str


def _rule_files(directory: Path, origin: str) -> Iterator[_FileCandidate]:
    if not directory.is_dir():
        raise InputError(f"{directory}: rules directory does not exist or is not a directory")
    for path in sorted(directory.glob("*.py")):
        if not path.name.startswith("_"):
            yield _FileCandidate(path, origin)


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value))


# -- load -------------------------------------------------------------------------------


def _import_file(candidate: _FileCandidate) -> ModuleType:
    digest = hashlib.sha256(str(candidate.path.parent.resolve()).encode()).hexdigest()[:10]
    module_name = f"scalearc_lint_rules_{digest}.{candidate.path.stem}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, candidate.path)
    if spec is None or spec.loader is None:
        raise InputError(f"{candidate.path}: cannot be imported as a rule module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except UserInterrupt:
        raise
    except BaseException as exc:  # SystemExit or KeyboardInterrupt too: never end the run
        del sys.modules[module_name]
        raise InputError(
            f"{candidate.path}: rule module failed to import: {describe_exception(exc)}"
        ) from None
    return module


def _rules_in(obj: object, source: str) -> list[Rule]:
    """Rules from a module (its ``RULE`` / ``RULES``), a Rule, or an iterable of Rules."""
    if isinstance(obj, ModuleType):
        if hasattr(obj, "RULE"):
            obj = obj.RULE
        elif hasattr(obj, "RULES"):
            obj = obj.RULES
        else:
            raise InputError(f"{source}: defines no RULE")
    if isinstance(obj, Rule):
        return [obj]
    if isinstance(obj, list | tuple) and obj and all(isinstance(r, Rule) for r in obj):
        return list(obj)
    raise InputError(
        f"{source}: RULE is not a scalearc_lint.engine.rule.Rule ({type(obj).__name__})"
    )


def _load_entry_point(ep: EntryPoint) -> list[LoadedRule]:
    dist = ep.dist
    package = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
    source = f"plugin {package} (entry point {ep.name} = {ep.value})"
    try:
        obj = ep.load()
    except UserInterrupt:
        raise
    except BaseException as exc:  # SystemExit or KeyboardInterrupt too: never end the run
        raise InputError(f"{source}: failed to load: {describe_exception(exc)}") from None
    return [LoadedRule(rule, source) for rule in _rules_in(obj, source)]


# -- validate ---------------------------------------------------------------------------


_TEXT_FIELDS = ("id", "name", "title", "rationale", "reference", "remediation")


def _validate(loaded: LoadedRule) -> None:
    rule, source = loaded.rule, loaded.source
    for field_name in _TEXT_FIELDS:
        value = getattr(rule, field_name)
        if not isinstance(value, str):
            raise InputError(
                f"{source}: rule {field_name} is {type(value).__name__}, not text"
                + (f" (rule {rule.id})" if isinstance(rule.id, str) else "")
            )
        if not _encodable(value):
            raise InputError(f"{source}: rule {field_name} is not valid Unicode text")
    if not RULE_ID_PATTERN.match(rule.id):
        raise InputError(
            f"{source}: rule id {clipped(repr(rule.id))} does not match "
            f"{RULE_ID_PATTERN.pattern} (e.g. SA001)"
        )
    if reserved_prefix(rule.id) is not None:
        raise InputError(
            f"{source}: rule id {rule.id!r} is reserved: scalearc-lint's own plan, waiver and "
            f"identification findings use the prefixes {', '.join(RESERVED_ID_PREFIXES)}"
        )
    if not RULE_NAME_PATTERN.match(rule.name):
        raise InputError(
            f"{source}: rule {rule.id} name {clipped(repr(rule.name))} is not kebab-case"
        )
    if not isinstance(rule.severity, Severity):
        raise InputError(
            f"{source}: rule {rule.id} severity {clipped(repr(rule.severity))} is not a "
            "scalearc_lint.engine.rule.Severity (ERROR, WARNING or INFO)"
        )
    if not isinstance(rule.scope, str) or rule.scope not in _SCOPES:
        raise InputError(
            f"{source}: rule {rule.id} scope {clipped(repr(rule.scope))} is not one of {_SCOPES}"
        )
    if not callable(rule.check):
        raise InputError(f"{source}: rule {rule.id} check is not callable")
    if not (isinstance(rule.options, type) and issubclass(rule.options, msgspec.Struct)):
        raise InputError(f"{source}: rule {rule.id} options must be a msgspec.Struct class")
    try:
        rule.options()
    except UserInterrupt:
        raise
    except BaseException as exc:
        raise InputError(
            f"{source}: rule {rule.id} options cannot be made with their defaults: "
            f"{describe_exception(exc)}"
        ) from None
    for field_name in ("title", "rationale", "reference", "remediation"):
        if not getattr(rule, field_name).strip():
            raise InputError(f"{source}: rule {rule.id} has an empty {field_name}")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def discover_rules(
    rules_dirs: Sequence[str | Path] = (),
    *,
    builtin: bool = True,
    plugins: bool = True,
) -> list[LoadedRule]:
    """Find, load and validate every rule; duplicates are an error naming both sources."""
    candidates: list[_FileCandidate] = []
    if builtin:
        candidates.extend(_rule_files(builtin_rules_dir(), "built-in"))
    for directory in rules_dirs:
        candidates.extend(_rule_files(Path(directory), "rules-dir"))
    loaded: list[LoadedRule] = []
    for candidate in candidates:
        source = f"{candidate.origin} {candidate.path}"
        module = _import_file(candidate)
        loaded.extend(LoadedRule(rule, source) for rule in _rules_in(module, source))
    if plugins:
        for ep in _entry_points():
            loaded.extend(_load_entry_point(ep))
    seen_ids: dict[str, LoadedRule] = {}
    seen_names: dict[str, LoadedRule] = {}
    for item in loaded:
        _validate(item)
        for seen, key, what in (
            (seen_ids, item.rule.id, "id"),
            (seen_names, item.rule.name, "name"),
        ):
            first = seen.get(key)
            if first is not None:
                raise InputError(
                    f"duplicate rule {what} {key}: defined by {first.source} and by {item.source}"
                )
            seen[key] = item
    return sorted(loaded, key=lambda item: item.rule.id)


# -- evaluate ---------------------------------------------------------------------------


def _object_ref(
    inventory: Inventory, kind: str, moid: str, name: str, subject: object
) -> ObjectRef:
    uuid = ""
    if isinstance(subject, Appliance | Unidentified):
        uuid = subject.vm.instance_uuid
    elif kind == "vm":
        vm = inventory.snapshot.vms.get(moid)
        uuid = vm.instance_uuid if vm is not None else ""
    return ObjectRef(kind, moid, name, inventory.vcenter, uuid)


#: Statuses a rule may give; ``waived`` is for waivers and ``crashed`` for the engine only.
_RULE_STATUSES = frozenset({Status.PASS, Status.FAIL, Status.UNKNOWN})


class _MalformedVerdict(Exception):
    """A check returned something the engine cannot turn into a result."""


def _verdict_problem(verdict: object) -> str | None:
    if not isinstance(verdict, Verdict):
        return f"check returned {type(verdict).__name__}, not a Verdict or None"
    # A plugin's verdict holds whatever it was given: typed as object, checked as such.
    status: object = verdict.status
    message: object = verdict.message
    severity: object = verdict.severity
    if not isinstance(status, Status) or status not in _RULE_STATUSES:
        return f"verdict status {clipped(repr(status))} is not Status.PASS, FAIL or UNKNOWN"
    if not isinstance(message, str):
        return f"verdict message is {type(message).__name__}, not text"
    if not _encodable(message):
        return "verdict message is not valid Unicode text (a lone surrogate)"
    if severity is not None and not isinstance(severity, Severity):
        return f"verdict severity {clipped(repr(severity))} is not a Severity"
    return None


def evaluate_rule(
    loaded: LoadedRule, inventory: Inventory, config: Config, *, timeout: float | None = None
) -> Iterator[Result]:
    """Run one rule on every object of its scope, isolating every failure of the rule.

    Anything the rule raises (``SystemExit`` and ``KeyboardInterrupt`` included; only a
    real Ctrl-C, :class:`UserInterrupt`, ends the run), a malformed verdict, and running
    out of its time budget (``timeout`` seconds on this inventory, see
    :mod:`scalearc_lint.engine.budget`) become a ``crashed`` result for that object.
    """
    rule = loaded.rule
    settings = config.settings(rule)
    if not settings.enabled:
        return
    with TimeBudget(timeout, what=f"rule {rule.id} ({loaded.source})") as budget:
        yield from _judged_subjects(loaded, inventory, settings, budget, timeout)


def _judged_subjects(
    loaded: LoadedRule,
    inventory: Inventory,
    settings: RuleSettings,
    budget: TimeBudget,
    timeout: float | None,
) -> Iterator[Result]:
    rule = loaded.rule
    for kind, moid, name, subject in inventory.subjects(rule.scope):
        ref = _object_ref(inventory, kind, moid, name, subject)

        def crashed(message: str, ref: ObjectRef = ref) -> Result:
            return Result(rule.id, Status.CRASHED, settings.severity, ref, message)

        # Identification never guesses: a result resting on a role or pair in doubt
        # (ID001) is unknown, and the rule never sees a guessed role.
        doubt = identification_doubt(subject)
        if doubt is not None:
            yield Result(rule.id, Status.UNKNOWN, settings.severity, ref, doubt)
            continue
        if budget.exhausted:
            yield crashed(
                f"rule {rule.id} was not run on this object: it used its whole time budget "
                f"({timeout:g} s a snapshot, --rule-timeout) on earlier objects"
            )
            continue
        try:
            verdict = budget.run(rule.check, subject, inventory, settings.options)
            problem = _verdict_problem(verdict) if verdict is not None else None
            if problem is not None:
                raise _MalformedVerdict(problem)
        except UserInterrupt:
            raise
        except OutOfTime:
            yield crashed(
                f"rule {rule.id} ran out of its time budget ({timeout:g} s a snapshot, "
                "--rule-timeout) on this object and was stopped"
            )
            continue
        except _MalformedVerdict as exc:
            yield crashed(f"rule {rule.id} returned a malformed verdict: {exc}")
            continue
        except BaseException as exc:
            yield crashed(f"rule {rule.id} crashed: {describe_exception(exc)}")
            continue
        if verdict is None:
            continue
        severity = settings.severity
        if verdict.severity is not None and verdict.severity.rank < severity.rank:
            severity = verdict.severity
        yield Result(rule.id, verdict.status, severity, ref, verdict.message)


def identify_appliances(inventory: Inventory, timeout: float | None) -> None:
    """Identify the inventory's appliances now, within ``timeout`` seconds: a config's
    name_pattern is a user's regular expression, and one such as ``(a+)+$`` can take
    forever on a VM name."""
    try:
        with TimeBudget(timeout, what="identifying appliances") as budget:
            # This vCenter's VMs only: pairs are joined across the estate afterwards.
            budget.run(lambda: inventory.appliances)
    except OutOfTime:
        pattern = inventory.selection.name_pattern
        cause = (
            f"the config's appliances.name_pattern {clipped(repr(pattern))} takes too long to "
            "match (nested repetition such as (a+)+ can backtrack without end); simplify it"
            if pattern
            else "simplify the appliances section of the config"
        )
        raise InputError(
            f"{inventory.vcenter}: identifying appliances took more than {timeout:g} s "
            f"(--rule-timeout): {cause}"
        ) from None


def evaluate(
    inventories: Iterable[Inventory],
    rules: Sequence[LoadedRule],
    config: Config,
    *,
    timeout: float | None = None,
) -> list[Result]:
    """Every rule on every inventory, judged as one estate, with the identification findings
    (ID001), in the one deterministic order; ``timeout`` is each rule's time budget on one
    inventory (None: unbounded)."""
    judged = list(inventories)
    if not judged:
        return []
    # Join them before any rule asks for pairs or the MAC index (built once per estate).
    Estate.of(judged)
    for inventory in judged:
        identify_appliances(inventory, timeout)
    return sorted_results(
        [
            *identification_results(judged, config),
            *(
                result
                for inventory in judged
                for loaded in rules
                for result in evaluate_rule(loaded, inventory, config, timeout=timeout)
            ),
        ]
    )
