"""``scalearc-lint explain ID``: a rule's documentation, from its own description."""

from __future__ import annotations

import argparse
import textwrap
from datetime import timedelta
from typing import Any

import msgspec
import yaml

from scalearc_lint.audit.waivers import EXPIRED_RULE
from scalearc_lint.commands.list_rules import TOOL_RULES
from scalearc_lint.commands.options import add_rules_dir_option
from scalearc_lint.engine.appliance_id import EXAMPLES as ID001_EXAMPLES
from scalearc_lint.engine.appliance_id import ID001
from scalearc_lint.engine.evaluate import discover_rules
from scalearc_lint.engine.results import RuleInfo
from scalearc_lint.engine.rule import Example, Rule
from scalearc_lint.errors import InputError
from scalearc_lint.text import format_duration

#: Rules whose reference is the tool's own documentation, not the vendor's paper.
_OWN_REFERENCE = frozenset({EXPIRED_RULE.id, ID001.id})
#: Examples of the rules the tool reports itself (a rule module's are on its Rule).
_TOOL_EXAMPLES: dict[str, tuple[Example, ...]] = {ID001.id: ID001_EXAMPLES}


def register(subparsers: Any) -> None:
    """Add the ``explain`` subcommand."""
    parser = subparsers.add_parser(
        "explain",
        help="explain a rule",
        description="Show a rule's rationale, reference paragraph, remediation and examples.",
    )
    parser.add_argument("rule", metavar="ID", help="rule id (SA001) or name (static-mac)")
    add_rules_dir_option(parser)
    parser.set_defaults(func=run_explain)


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=88, initial_indent="  ", subsequent_indent="  ")


def explain_text(rule: Rule | RuleInfo) -> str:
    """The explanation of a rule (a rule module's, or one the tool reports itself) as text."""
    reference = (
        "Reference:" if rule.id in _OWN_REFERENCE else "Reference (ScaleArc VM best practices):"
    )
    parts = [
        f"{rule.id} {rule.name}: {rule.title}",
        f"severity: {rule.severity.value}    applies to: {rule.scope}",
        "",
        "Why:",
        _wrap(rule.rationale),
        "",
        reference,
        _wrap(rule.reference),
        "",
        "Remediation:",
        _wrap(rule.remediation),
    ]
    if isinstance(rule, Rule):
        parts += _options(rule)
    parts += _examples(rule.examples if isinstance(rule, Rule) else _TOOL_EXAMPLES.get(rule.id, ()))
    return "\n".join(parts)


def _options(rule: Rule) -> list[str]:
    parts: list[str] = []
    fields = msgspec.structs.fields(rule.options)
    if fields:
        parts += ["", "Options (config file: rules: {" + rule.id + ": {...}}):"]
        for f in fields:
            default: object = f.default if f.default is not msgspec.NODEFAULT else "(required)"
            if isinstance(default, timedelta):
                default = format_duration(default)
            parts.append(f"  {f.name}: default {default}")
    return parts


def _examples(examples: tuple[Example, ...]) -> list[str]:
    parts: list[str] = []
    if examples:
        parts += ["", "Examples (inventory sketches; see scalearc_lint.snapshot.sketch):"]
        for example in examples:
            expect = ", ".join(f"{name} {status.value}" for name, status in example.expect.items())
            parts.append(f"  - {example.title}  =>  {expect}")
            if example.options:
                parts.append(f"    options: {dict(example.options)}")
            if example.appliances:
                parts.append(f"    config appliances: {dict(example.appliances)}")
            dumped = yaml.safe_dump(dict(example.sketch), default_flow_style=None, sort_keys=False)
            parts += ["      " + line for line in dumped.strip().splitlines()]
    return parts


def run_explain(args: argparse.Namespace) -> int:
    """Print the explanation."""
    wanted = args.rule.strip()
    rules: list[Rule | RuleInfo] = [item.rule for item in discover_rules(args.rules_dir)]
    for rule in [*rules, *(info for info, _ in TOOL_RULES)]:
        if wanted.upper() == rule.id or wanted.lower() == rule.name:
            print(explain_text(rule))
            return 0
    raise InputError(f"no rule {wanted!r} (see `scalearc-lint rules --all`)")
