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
from scalearc_lint.engine.config import Config
from scalearc_lint.engine.results import ObjectRef, Result, sorted_results
from scalearc_lint.engine.rule import (
    RESERVED_ID_PREFIXES,
    RULE_ID_PATTERN,
    RULE_NAME_PATTERN,
    Rule,
    Status,
    Verdict,
    reserved_prefix,
)
from scalearc_lint.errors import InputError
from scalearc_lint.io.resources import builtin_rules_dir
from scalearc_lint.snapshot.inventory import (
    Appliance,
    Estate,
    Inventory,
    Unidentified,
    identification_doubt,
)

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
    except Exception as exc:
        del sys.modules[module_name]
        raise InputError(
            f"{candidate.path}: rule module failed to import: {type(exc).__name__}: {exc}"
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
    except Exception as exc:
        raise InputError(f"{source}: failed to load: {type(exc).__name__}: {exc}") from None
    return [LoadedRule(rule, source) for rule in _rules_in(obj, source)]


# -- validate ---------------------------------------------------------------------------


def _validate(loaded: LoadedRule) -> None:
    rule, source = loaded.rule, loaded.source
    if not RULE_ID_PATTERN.match(rule.id):
        raise InputError(
            f"{source}: rule id {rule.id!r} does not match {RULE_ID_PATTERN.pattern} (e.g. SA001)"
        )
    if reserved_prefix(rule.id) is not None:
        raise InputError(
            f"{source}: rule id {rule.id!r} is reserved: scalearc-lint's own plan, waiver and "
            f"identification findings use the prefixes {', '.join(RESERVED_ID_PREFIXES)}"
        )
    if not RULE_NAME_PATTERN.match(rule.name):
        raise InputError(f"{source}: rule {rule.id} name {rule.name!r} is not kebab-case")
    if rule.scope not in _SCOPES:
        raise InputError(f"{source}: rule {rule.id} scope {rule.scope!r} is not one of {_SCOPES}")
    if not callable(rule.check):
        raise InputError(f"{source}: rule {rule.id} check is not callable")
    if not (isinstance(rule.options, type) and issubclass(rule.options, msgspec.Struct)):
        raise InputError(f"{source}: rule {rule.id} options must be a msgspec.Struct class")
    for field_name in ("title", "rationale", "reference", "remediation"):
        if not getattr(rule, field_name).strip():
            raise InputError(f"{source}: rule {rule.id} has an empty {field_name}")


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


def evaluate_rule(loaded: LoadedRule, inventory: Inventory, config: Config) -> Iterator[Result]:
    """Run one rule on every object of its scope; a crash on one object is an ``error`` result."""
    rule = loaded.rule
    settings = config.settings(rule)
    if not settings.enabled:
        return
    for kind, moid, name, subject in inventory.subjects(rule.scope):
        ref = _object_ref(inventory, kind, moid, name, subject)
        # Identification never guesses: a result resting on a role or pair in doubt
        # (ID001) is unknown, and the rule never sees a guessed role.
        doubt = identification_doubt(subject)
        if doubt is not None:
            yield Result(rule.id, Status.UNKNOWN, settings.severity, ref, doubt)
            continue
        try:
            verdict = rule.check(subject, inventory, settings.options)
            if verdict is not None and not isinstance(verdict, Verdict):
                raise TypeError(f"check returned {type(verdict).__name__}, not a Verdict")
        except Exception as exc:
            message = f"rule {rule.id} crashed: {type(exc).__name__}: {exc}"
            yield Result(rule.id, Status.CRASHED, settings.severity, ref, message)
            continue
        if verdict is None:
            continue
        severity = settings.severity
        if verdict.severity is not None and verdict.severity.rank < severity.rank:
            severity = verdict.severity
        yield Result(rule.id, verdict.status, severity, ref, verdict.message)


def evaluate(
    inventories: Iterable[Inventory], rules: Sequence[LoadedRule], config: Config
) -> list[Result]:
    """Every rule on every inventory, judged as one estate, with the identification findings
    (ID001), in the one deterministic order."""
    judged = list(inventories)
    if not judged:
        return []
    # Join them before any rule asks for pairs or the MAC index (built once per estate).
    Estate.of(judged)
    return sorted_results(
        [
            *identification_results(judged, config),
            *(
                result
                for inventory in judged
                for loaded in rules
                for result in evaluate_rule(loaded, inventory, config)
            ),
        ]
    )
