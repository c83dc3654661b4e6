"""The ``--config`` YAML file: appliance selection and per-rule settings, strictly validated."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from scalearc_lint.engine.results import RuleInfo
from scalearc_lint.engine.rule import NoOptions, Rule, Severity
from scalearc_lint.errors import InputError, UserInterrupt
from scalearc_lint.io.yamlfile import YamlDocument, load_yaml
from scalearc_lint.snapshot.identification import ApplianceSelection
from scalearc_lint.text import describe_exception, parse_duration

_TOP_LEVEL_KEYS = ("appliances", "rules")
_RULE_COMMON_KEYS = ("enabled", "severity")
#: A rule the config file can set: a rule module's Rule, or a rule the tool itself reports
#: and describes only (the plan rules PLAN001-PLAN009), which takes no options.
Configurable = Rule | RuleInfo


@dataclass(frozen=True)
class RuleSettings:
    """One rule's effective settings: on/off, severity, typed options."""

    enabled: bool
    severity: Severity
    options: msgspec.Struct


@dataclass(frozen=True)
class Config:
    """Validated configuration for a run."""

    selection: ApplianceSelection = field(default_factory=ApplianceSelection)
    rules: Mapping[str, RuleSettings] = field(default_factory=dict)

    def settings(self, rule: Configurable) -> RuleSettings:
        """The settings of ``rule``: configured, else its defaults."""
        configured = self.rules.get(rule.id)
        if configured is not None:
            return configured
        return RuleSettings(True, rule.severity, options_type(rule)())


def options_type(rule: Configurable) -> type[msgspec.Struct]:
    """The typed options of ``rule``; a rule described only by a RuleInfo takes none."""
    return rule.options if isinstance(rule, Rule) else NoOptions


def convert_options(rule: Configurable, raw: Mapping[str, Any]) -> msgspec.Struct:
    """Typed options for ``rule`` from plain data; ValueError names the bad key."""
    options = options_type(rule)
    known = {f.name: f for f in msgspec.structs.fields(options)}
    prepared: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            choices = ", ".join(sorted([*known, *_RULE_COMMON_KEYS])) or "none"
            raise ValueError(f"{key}: unknown option for {rule.id} (known: {choices})")
        if known[key].type is timedelta:
            try:
                value = parse_duration(value)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
        prepared[key] = value
    try:
        return msgspec.convert(prepared, options)
    except msgspec.ValidationError as exc:
        text, _, where = str(exc).rpartition(" - at `$.")
        return _raise(f"{where.rstrip('`')}: {text}" if text else str(exc))
    except UserInterrupt:
        raise
    except BaseException as exc:  # a plugin's options class raising anything, SystemExit too
        return _raise(f"options: {rule.id}'s options class failed: {describe_exception(exc)}")


def _raise(message: str) -> msgspec.Struct:
    raise ValueError(message)


def load_config(
    path: str | Path | None,
    rules: Sequence[Configurable],
    *,
    locked: Sequence[tuple[RuleInfo, str]] = (),
    always_on: Mapping[str, str] | None = None,
) -> Config:
    """Read and validate a config file against the loaded rules (``None``: defaults).

    ``locked`` names rules the tool reports but the file may not configure, each with the
    reason shown when it tries; ``always_on`` maps the id of a rule the file may configure
    but not disable to the reason shown when it tries.
    """
    if path is None:
        return Config()
    doc = load_yaml(path, what="config")
    if not isinstance(doc.data, dict):
        raise InputError(
            f"{doc.where(())}: the config must be a mapping with keys appliances, rules"
        )
    for key in doc.data:
        if key not in _TOP_LEVEL_KEYS:
            raise InputError(
                f"{doc.where((key,))}: {key}: unknown key (known: {', '.join(_TOP_LEVEL_KEYS)})"
            )
    return Config(
        _selection(doc), _rule_settings(doc, {r.id: r for r in rules}, locked, always_on or {})
    )


def _selection(doc: YamlDocument) -> ApplianceSelection:
    raw = doc.data.get("appliances", {})
    if raw is None:
        return ApplianceSelection()
    try:
        return msgspec.convert(raw, ApplianceSelection)
    except (msgspec.ValidationError, ValueError) as exc:
        text, _, where = str(exc).rpartition(" - at `$.")
        key = where.rstrip("`").split(".")[0].split("[")[0] if text else ""
        fields = [f.name for f in msgspec.structs.fields(ApplianceSelection)]
        # A check of the whole section names its key first ("none_expected_in: ...").
        about = re.match(r"(\w+): ", str(exc))
        if not text and about and about.group(1) in fields:
            key, text = about.group(1), str(exc)[len(about.group(0)) :]
        unknown = re.match(r"Object contains unknown field `(\w+)`", str(exc))
        if unknown:
            key = unknown.group(1)
            text = f"unknown key (known: {', '.join(fields)})"
        at: tuple[str, ...] = ("appliances", key) if key else ("appliances",)
        label = ".".join(at)
        raise InputError(f"{doc.where(at)}: {label}: {text or exc}") from None


def _rule_settings(
    doc: YamlDocument,
    rules: Mapping[str, Configurable],
    locked: Sequence[tuple[RuleInfo, str]],
    always_on: Mapping[str, str],
) -> dict[str, RuleSettings]:
    raw = doc.data.get("rules", {}) or {}
    if not isinstance(raw, dict):
        raise InputError(
            f"{doc.where(('rules',))}: rules: expected a mapping of rule id to settings"
        )
    settings: dict[str, RuleSettings] = {}
    by_name = {rule.name: rule for rule in rules.values()}
    for key, section in raw.items():
        rule = rules.get(key) or by_name.get(key)
        for info, reason in locked:
            if rule is None and key in (info.id, info.name):
                raise InputError(
                    f"{doc.where(('rules', key))}: rules.{key}: {info.id} cannot be "
                    f"configured: {reason}"
                )
        if rule is None:
            raise InputError(
                f"{doc.where(('rules', key))}: rules.{key}: unknown rule "
                "(see `scalearc-lint rules --all`)"
            )
        section = section or {}
        if not isinstance(section, dict):
            raise InputError(f"{doc.where(('rules', key))}: rules.{key}: expected a mapping")
        enabled = section.get("enabled", True)
        if not isinstance(enabled, bool):
            raise InputError(
                f"{doc.where(('rules', key, 'enabled'))}: rules.{key}.enabled: "
                "expected true or false"
            )
        if not enabled and rule.id in always_on:
            raise InputError(
                f"{doc.where(('rules', key, 'enabled'))}: rules.{key}.enabled: {rule.id} "
                f"cannot be disabled: {always_on[rule.id]}"
            )
        try:
            severity = Severity(section.get("severity", rule.severity))
        except ValueError:
            raise InputError(
                f"{doc.where(('rules', key, 'severity'))}: rules.{key}.severity: expected one of "
                "error, warning, info"
            ) from None
        options = {k: v for k, v in section.items() if k not in _RULE_COMMON_KEYS}
        try:
            typed = convert_options(rule, options)
        except ValueError as exc:
            bad_key = str(exc).split(":")[0]
            raise InputError(f"{doc.where(('rules', key, bad_key))}: rules.{key}.{exc}") from None
        settings[rule.id] = RuleSettings(enabled, severity, typed)
    return settings
