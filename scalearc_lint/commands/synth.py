"""``scalearc-lint synth``: write a deterministic synthetic snapshot."""

from __future__ import annotations

import argparse
from typing import Any

from scalearc_lint.commands.options import count_at_most, non_negative_int
from scalearc_lint.errors import InputError
from scalearc_lint.io.outputs import check_outputs, write_atomic
from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.synth import SynthSpec, synthesize

#: The most VMs synth writes: 25 times vSphere's 40,000 per vCenter, about 750 MB of JSON.
MAX_SYNTH_VMS = 1_000_000


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return value


def register(subparsers: Any) -> None:
    """Add the ``synth`` subcommand."""
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic snapshot",
        description="Write a deterministic synthetic inventory snapshot (for trials, benchmarks).",
    )
    parser.add_argument(
        "--vms",
        type=count_at_most(MAX_SYNTH_VMS, "a vCenter holds at most about 40,000"),
        required=True,
        help=f"number of VMs in all (at most {MAX_SYNTH_VMS:,})",
    )
    parser.add_argument(
        "--appliances", type=non_negative_int, default=0, help="how many are appliances (default 0)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--violation-rate",
        type=_rate,
        default=0.1,
        help="share of appliances given one planted violation (default 0.1)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="snapshot to write")
    parser.set_defaults(func=run_synth)


def run_synth(args: argparse.Namespace) -> int:
    """Generate and write the snapshot."""
    if args.appliances > args.vms:
        raise InputError(f"--appliances {args.appliances} is more than --vms {args.vms}")
    check_outputs([("-o", args.output)])
    snapshot = synthesize(SynthSpec(args.vms, args.appliances, args.seed, args.violation_rate))
    write_atomic(args.output, encode_snapshot(snapshot))
    return 0
