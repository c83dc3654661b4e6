"""``scalearc-lint apply PLAN.yaml --server VC [--execute]``: carry a plan out against vCenter.

The only command that writes to vCenter. A dry run by default (it validates the whole
plan against live vCenter and prints each step's vSphere call); ``--execute`` carries the
steps out (see :mod:`scalearc_lint.change.apply`).
"""

from __future__ import annotations

import argparse
import getpass
import os
import shlex
import sys
import textwrap
from typing import Any

from scalearc_lint.change.plan import privileges_by_step_kind
from scalearc_lint.commands.options import add_login_options, add_timeout_option
from scalearc_lint.engine.config import load_config
from scalearc_lint.errors import InputError

#: Seconds the reads (the validating export, each re-read) may take; as export's.
APPLY_TIMEOUT = 1800


def _privileges_text() -> str:
    lines = [
        textwrap.fill(f"{kinds}: {needed}", 78, initial_indent="  ", subsequent_indent="      ")
        for kinds, needed in privileges_by_step_kind()
    ]
    heading = (
        "Privileges the account needs, per step kind (every step also needs System.Read, to "
        "re-read what it touches; manual steps need none):"
    )
    return textwrap.fill(heading, 78) + "\n" + "\n".join(lines)


_DESCRIPTION = (
    "Validate the whole plan against the live vCenter (the objects fix recorded must be "
    "unchanged, every step must be possible), then print each step's vSphere call (dry run) "
    "or, with --execute, carry the steps out: before each step the objects it touches are "
    "re-read and compared with what the plan expects; each task is waited for; the first "
    "failure stops; manual steps pause. A journal records each step done with its inverse; "
    "--resume JOURNAL continues.",
    "Exit codes: 0 completed (or dry run validated), 1 a step failed, 2 bad usage or input "
    "(also a plan that drifted from vCenter), 4 stopped at a manual step (resuming confirms "
    "it).",
)


def register(subparsers: Any) -> None:
    """Add the ``apply`` subcommand."""
    parser = subparsers.add_parser(
        "apply",
        help="carry a change plan out against vCenter (dry run unless --execute)",
        # Raw, so that the privileges stay one step kind a line.
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="\n\n".join(
            [*(textwrap.fill(paragraph, 78) for paragraph in _DESCRIPTION), _privileges_text()]
        ),
    )
    parser.add_argument("plan", metavar="PLAN", help="plan YAML file (written by fix, or by hand)")
    parser.add_argument("--server", metavar="HOST|HOST:PORT|URL", help="the vCenter (or GOVC_URL)")
    add_login_options(parser)
    add_timeout_option(parser, APPLY_TIMEOUT)
    parser.add_argument("--config", metavar="FILE", help="YAML config (appliance selection)")
    parser.add_argument(
        "--execute", action="store_true", help="carry the steps out (default: dry run)"
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="do not ask before each step (manual steps still stop when there is no terminal)",
    )
    parser.add_argument(
        "--journal",
        metavar="FILE",
        help="journal file (default: PLAN.journal.json beside the plan)",
    )
    parser.add_argument(
        "--resume",
        metavar="JOURNAL",
        help="continue the run this journal recorded (confirms the manual step it stopped at)",
    )
    parser.set_defaults(func=run_apply)


def _ask(prompt: str) -> bool:
    try:
        return input(prompt).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def run_apply(args: argparse.Namespace) -> int:
    """Run ``apply``."""
    from scalearc_lint.change.apply import ApplyRun, apply_steps, load_journal
    from scalearc_lint.exporter.connection import ConnectionRequest, resolve_connections
    from scalearc_lint.vcenter.backend import VsphereBackend

    if args.resume and not args.execute:
        raise InputError("--resume continues a run that acts: give --execute too")
    journal = load_journal(args.resume) if args.resume else None
    journal_path = args.resume or args.journal or f"{args.plan}.journal.json"
    config = load_config(args.config, [])
    request = ConnectionRequest(
        servers=(args.server,) if args.server else (),
        user=args.user,
        password_env=args.password_env,
        insecure=args.insecure,
        ca_files=tuple(args.ca_file),
        timeout=args.timeout,
    )
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    if args.execute and not terminal and not args.yes:
        raise InputError(
            "--execute without a terminal cannot ask before each step: give --yes for "
            "automation (manual steps still stop the run, printing the resume command)"
        )
    (connection,) = resolve_connections(
        request, os.environ, getpass.getpass if sys.stdin.isatty() else None
    )
    if connection.tls.insecure:
        print(
            "scalearc-lint: warning: TLS certificates are not verified (--insecure)",
            file=sys.stderr,
        )
    command = [
        "scalearc-lint",
        "apply",
        args.plan,
        "--server",
        connection.server.label,
        "--execute",
        "--resume",
        journal_path,
    ]
    if args.yes:
        command.append("--yes")
    backend = VsphereBackend(connection)
    run = ApplyRun(
        plan_path=args.plan,
        backend=backend,
        selection=config.selection,
        execute=args.execute,
        journal_path=journal_path,
        ask_step=_ask if terminal and not args.yes else None,
        ask_manual=_ask if terminal else None,
        say=lambda text: print(text, flush=True),
        resume_command=shlex.join(command),
        journal=journal,
    )
    try:
        return apply_steps(run)
    finally:
        backend.close()
