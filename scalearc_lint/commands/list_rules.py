"""``scalearc-lint rules``: list every discovered rule (``--all``: and the tool's own rules)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from scalearc_lint.audit.waivers import EXPIRED_RULE
from scalearc_lint.change.planlint import PLAN_RULES
from scalearc_lint.commands.options import add_rules_dir_option
from scalearc_lint.engine.appliance_id import ID001
from scalearc_lint.engine.evaluate import discover_rules
from scalearc_lint.engine.results import RuleInfo
from scalearc_lint.engine.rule import Rule

#: Rules the tool reports itself, each described once where its results are made: appliance
#: identification (every run), the change-plan lint of ``whatif`` and expired waivers. With
#: where they come from.
TOOL_RULES: tuple[tuple[RuleInfo, str], ...] = (
    (ID001, "built-in appliance identification (every run)"),
    *((info, "built-in plan lint (whatif)") for info in PLAN_RULES),
    (EXPIRED_RULE, "built-in waivers (--waivers)"),
)


def register(subparsers: Any) -> None:
    """Add the ``rules`` subcommand."""
    parser = subparsers.add_parser(
        "rules", help="list the rules", description="List built-in and plugin rules."
    )
    add_rules_dir_option(parser)
    parser.add_argument(
        "--all",
        action="store_true",
        help=(
            "also list the tool's own findings: ID001 (appliance identification), the plan "
            "rules PLAN001-PLAN009 (whatif) and WAIVER001 (expired waiver)"
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show where each rule is from")
    parser.set_defaults(func=run_rules)


def rule_lines(rules: Sequence[tuple[Rule | RuleInfo, str]], *, verbose: bool) -> list[str]:
    """A header, then one aligned line per rule: id, name, severity, scope, title (and source)."""
    id_width = max([8, *(len(r.id) for r, _ in rules)])
    name_width = max([20, *(len(r.name) for r, _ in rules)])
    rows = [("ID", "NAME", "SEVERITY", "SCOPE", "TITLE", "[SOURCE]")]
    rows += [(r.id, r.name, r.severity.value, r.scope, r.title, f"[{s}]") for r, s in rules]
    lines = []
    for rule_id, name, severity, scope, title, source in rows:
        line = f"{rule_id:{id_width}} {name:{name_width}} {severity:8} {scope:10} {title}"
        lines.append(f"{line}  {source}" if verbose else line)
    return lines


def run_rules(args: argparse.Namespace) -> int:
    """Print one line per rule."""
    rules: list[tuple[Rule | RuleInfo, str]] = [
        (item.rule, item.source) for item in discover_rules(args.rules_dir)
    ]
    if args.all:
        rules += TOOL_RULES
    for line in rule_lines(rules, verbose=args.verbose):
        print(line)
    return 0
