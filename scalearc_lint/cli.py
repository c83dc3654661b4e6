"""The ``scalearc-lint`` command line: subcommands, exit codes, one-line errors."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from scalearc_lint import __version__
from scalearc_lint.commands import COMMANDS
from scalearc_lint.errors import InputError

EXIT_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="scalearc-lint",
        description=(
            "Lint vSphere inventories against ScaleArc's VM best practices. "
            "Exit codes: 0 nothing at/above --fail-on, 1 failures, 2 bad usage or input, "
            "3 a rule crashed."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (console-script entry point)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except InputError as exc:
        print(f"scalearc-lint: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("scalearc-lint: interrupted; no output was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head`: not an error of ours; silence the interpreter's own.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if os.environ.get("SCALEARC_LINT_DEBUG"):
            raise
        print(
            f"scalearc-lint: internal error: {type(exc).__name__}: {exc} "
            "(set SCALEARC_LINT_DEBUG=1 for a traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_INPUT
    return code


if __name__ == "__main__":
    sys.exit(main())
