"""Command-line options that several subcommands share."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_rules_dir_option(parser: argparse.ArgumentParser) -> None:
    """``--rules-dir DIR`` (repeatable): where to find rules beyond the built-ins and plugins."""
    parser.add_argument(
        "--rules-dir",
        metavar="DIR",
        action="append",
        default=[],
        help="extra directory of rule modules (repeatable)",
    )


def non_negative_int(text: str) -> int:
    """argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def count_at_most(maximum: int, why: str) -> Callable[[str], int]:
    """argparse type: a whole number from 0 to ``maximum``; ``why`` explains the bound."""

    def parse(text: str) -> int:
        value = non_negative_int(text)
        if value > maximum:
            raise argparse.ArgumentTypeError(f"{value} is more than {maximum:,} ({why})")
        return value

    return parse


def seconds(text: str) -> float:
    """argparse type: a time in seconds, 0 or more (0 usually meaning "no limit")."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 86400 * 7:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 604800 seconds")
    return value


def add_login_options(parser: argparse.ArgumentParser) -> None:
    """How to log in to vCenter (export, apply): user, password source, TLS trust."""
    parser.add_argument("--user", metavar="NAME", help="user name (default: $GOVC_USERNAME)")
    parser.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password from this environment variable (default: $GOVC_PASSWORD, "
        "else prompt)",
    )
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument(
        "--ca-file",
        action="append",
        default=[],
        metavar="PEM",
        help="trust this CA certificate file (repeatable)",
    )
    tls.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the server's TLS certificate (not recommended)",
    )


def add_timeout_option(parser: argparse.ArgumentParser, default: float) -> None:
    """``--timeout``: the deadline of one vCenter's reads, and of each answer."""
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=default,
        metavar="SECONDS",
        help="give up on a vCenter whose export (connecting, logging in and every read) has not "
        f"finished within this time; also the longest wait for one answer (default "
        f"{default:g}; 0: no deadline)",
    )
