"""``scalearc-lint explain ID``: a rule's documentation, from its own description."""

from __future__ import annotations

import argparse
import textwrap
from datetime import timedelta
from typing import Any

import msgspec
import yaml

from scalearc_lint.config import format_duration
from scalearc_lint.engine import discover_rules
from scalearc_lint.errors import InputError
from scalearc_lint.rule import Rule


def register(subparsers: Any) -> None:
    """Add the ``explain`` subcommand."""
    parser = subparsers.add_parser(
        "explain",
        help="explain a rule",
        description="Show a rule's rationale, reference paragraph, remediation and examples.",
    )
    parser.add_argument("rule", metavar="ID", help="rule id (SA001) or name (static-mac)")
    parser.add_argument(
        "--rules-dir",
        metavar="DIR",
        action="append",
        default=[],
        help="extra directory of rule modules (repeatable)",
    )
    parser.set_defaults(func=run_explain)


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=88, initial_indent="  ", subsequent_indent="  ")


def explain_text(rule: Rule) -> str:
    """The explanation of a rule as plain text."""
    parts = [
        f"{rule.id} {rule.name}: {rule.title}",
        f"severity: {rule.severity.value}    applies to: {rule.scope}",
        "",
        "Why:",
        _wrap(rule.rationale),
        "",
        "Reference (ScaleArc VM best practices):",
        _wrap(rule.reference),
        "",
        "Remediation:",
        _wrap(rule.remediation),
    ]
    fields = msgspec.structs.fields(rule.options)
    if fields:
        parts += ["", "Options (config file: rules: {" + rule.id + ": {...}}):"]
        for f in fields:
            default: object = f.default if f.default is not msgspec.NODEFAULT else "(required)"
            if isinstance(default, timedelta):
                default = format_duration(default)
            parts.append(f"  {f.name}: default {default}")
    if rule.examples:
        parts += ["", "Examples (inventory sketches; see scalearc_lint.sketch):"]
        for example in rule.examples:
            expect = ", ".join(f"{name} {status.value}" for name, status in example.expect.items())
            parts.append(f"  - {example.title}  =>  {expect}")
            if example.options:
                parts.append(f"    options: {dict(example.options)}")
            dumped = yaml.safe_dump(dict(example.sketch), default_flow_style=None, sort_keys=False)
            parts += ["      " + line for line in dumped.strip().splitlines()]
    return "\n".join(parts)


def run_explain(args: argparse.Namespace) -> int:
    """Print the explanation."""
    wanted = args.rule.strip()
    for item in discover_rules(args.rules_dir):
        if wanted.upper() == item.rule.id or wanted.lower() == item.rule.name:
            print(explain_text(item.rule))
            return 0
    raise InputError(f"no rule {wanted!r} (see `scalearc-lint rules`)")
