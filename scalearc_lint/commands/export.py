"""``scalearc-lint export``: read one or more vCenters into snapshot files."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import msgspec

from scalearc_lint.commands.options import (
    add_login_options,
    add_timeout_option,
    count_at_most,
)
from scalearc_lint.errors import InputError
from scalearc_lint.io.inputs import TEXT_LIMIT_MB, decode_text, read_input_file
from scalearc_lint.io.outputs import check_outputs, write_outputs
from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.model import SCHEMA_VERSION, Snapshot, SnapshotBundle

if TYPE_CHECKING:
    from scalearc_lint.exporter import Progress
    from scalearc_lint.exporter.connection import Connection

PLACEHOLDER = "{vcenter}"
#: The longest event window asked for: ten years, far past what vCenter retains.
MAX_EVENTS_DAYS = 3650
#: ``--timeout`` default: ``scalearc_lint.exporter.connection.EXPORT_TIMEOUT`` (not imported
#: here: that module loads pyVmomi, which only export should pay for).
EXPORT_TIMEOUT = 1800


def register(subparsers: Any) -> None:
    """Add the ``export`` subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="export vCenter inventories to snapshot files",
        description=(
            "Read a vCenter inventory (read-only) into a snapshot file for `check`. "
            "Also reads govc's GOVC_URL, GOVC_USERNAME, GOVC_PASSWORD, GOVC_INSECURE and "
            "GOVC_TLS_CA_CERTS; options win. The password comes from --password-env, "
            "GOVC_PASSWORD or a prompt, never from the command line."
        ),
    )
    parser.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="HOST|HOST:PORT|URL",
        help="vCenter to export (repeatable: several are exported concurrently)",
    )
    parser.add_argument(
        "--servers-file",
        metavar="FILE",
        help="file listing vCenters, one per line ('#' starts a comment)",
    )
    add_login_options(parser)
    parser.add_argument(
        "--events-days",
        type=count_at_most(MAX_EVENTS_DAYS, "ten years; vCenter keeps far fewer days of events"),
        default=30,
        metavar="N",
        help="read migration and revert events of the last N days (default: 30)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help=f"snapshot file to write; with several servers it must contain {PLACEHOLDER} "
        "(one file per vCenter) unless --merge is given",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="write all vCenters into the one file -o names (a bundle that check reads as "
        "several vCenters); written only if every vCenter was exported",
    )
    add_timeout_option(parser, EXPORT_TIMEOUT)
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(func=run_export)


def _servers_from_file(path: str) -> list[str]:
    data = read_input_file(path, what="servers file", limit_mb=TEXT_LIMIT_MB)
    lines = decode_text(data, path, what="servers file").splitlines()
    servers = [line.split("#", 1)[0].strip() for line in lines]
    servers = [s for s in servers if s]
    if not servers:
        raise InputError(f"--servers-file {path}: lists no server")
    return servers


def summarise_failures(problems: list[str], *, shown: int = 5) -> str:
    """One line for the vCenters that failed: each message while few, else grouped by reason
    (``label: reason``) with a few labels each, so thousands of vCenters stay readable."""
    if len(problems) <= shown:
        return "; ".join(problems)
    by_reason: dict[str, list[str]] = {}
    for problem in problems:
        label, _, reason = problem.partition(": ")
        by_reason.setdefault(reason or label, []).append(label if reason else "")
    parts = []
    for reason, labels in sorted(by_reason.items(), key=lambda item: -len(item[1])):
        named = [label for label in labels if label][:3]
        more = len(labels) - len(named)
        who = ", ".join(named) + (f" and {more:,} more" if more and named else "")
        parts.append(f"{len(labels):,} x {reason}" + (f" ({who})" if who else ""))
    return (
        f"{len(problems):,} vCenters failed: "
        + "; ".join(parts[:shown])
        + (f"; and {len(parts) - shown:,} other reasons" if len(parts) > shown else "")
    )


def output_path(template: str, connection: Connection, several: bool) -> str:
    """Where one vCenter's snapshot goes."""
    if PLACEHOLDER in template:
        return template.replace(PLACEHOLDER, connection.server.label.replace(":", "_"))
    if several:
        raise InputError(
            f"-o {template}: several servers need one file each; put {PLACEHOLDER} in the "
            f"name, e.g. -o snapshot-{PLACEHOLDER}.json"
        )
    return template


def run_export(args: argparse.Namespace) -> int:
    """Run ``export``."""
    servers = list(args.server)
    if args.servers_file:
        servers += _servers_from_file(args.servers_file)
    # pyVmomi is imported here, not at start-up: every other command would pay for it.
    from scalearc_lint.exporter.connection import ConnectionRequest, resolve_connections
    from scalearc_lint.exporter.progress import TerminalProgress

    request = ConnectionRequest(
        servers=tuple(servers),
        user=args.user,
        password_env=args.password_env,
        insecure=args.insecure,
        ca_files=tuple(args.ca_file),
        timeout=args.timeout,
    )
    prompt = getpass.getpass if sys.stdin.isatty() else None
    connections = resolve_connections(request, os.environ, prompt)
    several = len(connections) > 1
    if args.merge and PLACEHOLDER in args.output:
        raise InputError(f"-o {args.output}: --merge writes one file; leave out {PLACEHOLDER}")
    paths = [
        args.output if args.merge else output_path(args.output, c, several) for c in connections
    ]
    inputs = [("--ca-file", path) for path in args.ca_file]
    if args.servers_file:
        inputs.append(("--servers-file", args.servers_file))
    check_outputs([("-o", path) for path in dict.fromkeys(paths)], inputs)
    if connections[0].tls.insecure:
        print(
            "scalearc-lint: warning: TLS certificates are not verified (--insecure); "
            "anyone on the network path can pose as the vCenter",
            file=sys.stderr,
        )
    terminal = sys.stderr.isatty() and not args.quiet
    progress = TerminalProgress(sys.stderr) if terminal else None
    try:
        results = _export_all(connections, args.events_days, progress, args.timeout)
    finally:
        if progress is not None:
            progress.finish()

    if args.merge:
        return _write_merged(args.output, connections, results, terminal)
    problems = [result for result in results if not isinstance(result, Snapshot)]
    written = [
        (connection, path, result)
        for connection, path, result in zip(connections, paths, results, strict=True)
        if isinstance(result, Snapshot)
    ]
    write_outputs([(path, encode_snapshot(result)) for _, path, result in written])
    if terminal:
        for connection, path, result in written:
            print(
                f"{connection.server.label}: wrote {path} ({len(result.vms)} VMs, "
                f"{len(result.hosts)} hosts, {len(result.events.items)} events)",
                file=sys.stderr,
            )
    if problems:
        raise InputError(summarise_failures(problems))
    return 0


def _write_merged(
    path: str, connections: list[Connection], results: list[Snapshot | str], terminal: bool
) -> int:
    """Write one bundle of every vCenter, or nothing: a partial bundle would look complete."""
    snapshots = [r for r in results if isinstance(r, Snapshot)]
    problems = [r for r in results if not isinstance(r, Snapshot)]
    if problems:
        raise InputError(summarise_failures(problems) + f"; --merge: {path} not written")
    bundle = SnapshotBundle(schema_version=SCHEMA_VERSION, snapshots=snapshots)
    write_outputs([(path, msgspec.json.encode(bundle))])
    if terminal:
        print(
            f"wrote {path} ({len(snapshots)} vCenters: "
            f"{', '.join(c.server.label for c in connections)})",
            file=sys.stderr,
        )
    return 0


def _export_all(
    connections: list[Connection], events_days: int, progress: Progress | None, timeout: float
) -> list[Snapshot | str]:
    """Export every vCenter concurrently, each within ``timeout`` seconds; a failure is its
    one-line message.

    Each export runs in a daemon thread that the main thread waits for until the deadline:
    a vCenter that stops answering (a stopped process keeps its sockets open) is given up
    on then, whatever step it hangs in (DNS, connect, TLS, login, a read), and its thread
    ends with the process. Nothing is written for it. An export given up on (the deadline,
    Ctrl-C) that has logged in is first told to stop and has LOGOUT_GRACE seconds to log
    out, which ends everything its session holds on the vCenter.
    """
    from scalearc_lint.exporter import Cancelled, ExportStats, export_vcenter

    results: list[Snapshot | str] = [
        f"{c.server.label}: no complete export within {timeout:g} s (--timeout); the vCenter "
        "stopped answering or is too slow"
        for c in connections
    ]

    cancel = threading.Event()
    # Set when each export has ended: Thread.is_alive() cannot be trusted after Ctrl-C
    # interrupted a join (Python 3.11 then marks the thread stopped while it still runs).
    ended = [threading.Event() for _ in connections]
    stats = [ExportStats() for _ in connections]

    def work(index: int, connection: Connection) -> None:
        try:
            results[index] = export_vcenter(
                connection,
                events_days=events_days,
                progress=progress,
                stats=stats[index],
                cancel=cancel,
            )
        except Cancelled:
            pass  # given up on: its message is already there
        except InputError as exc:
            results[index] = str(exc)
        except Exception as exc:  # one vCenter's surprise must not hide the others' results
            results[index] = f"{connection.server.label}: internal error: {type(exc).__name__}"
        finally:
            ended[index].set()

    # Daemon threads, so Ctrl-C (or the deadline) ends the run at once; nothing is written.
    threads = [
        threading.Thread(target=work, args=(i, c), name=c.server.label, daemon=True)
        for i, c in enumerate(connections)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout if timeout else None
    try:
        for thread in threads:
            while thread.is_alive():
                remaining = deadline - time.monotonic() if deadline is not None else 0.2
                if remaining <= 0:
                    break
                thread.join(min(0.2, remaining))
    except KeyboardInterrupt:
        _give_up(cancel, ended, [s.logins > 0 for s in stats])
        raise
    finished = list(results)  # an export that ends while logging out is still too late
    _give_up(cancel, ended, [s.logins > 0 for s in stats])
    if len(connections) == 1 and isinstance(finished[0], str):
        raise InputError(finished[0])
    return finished


#: Seconds an export given up on has to log out (one round trip, after its reads stop).
LOGOUT_GRACE = 5.0


def _give_up(cancel: threading.Event, ended: list[threading.Event], logged_in: list[bool]) -> None:
    """Tell the exports still running to stop, and wait a little for those logged in to log
    out (one still connecting has nothing to end, and may be stuck where it is)."""
    cancel.set()
    end = time.monotonic() + LOGOUT_GRACE
    for event, session in zip(ended, logged_in, strict=True):
        if session:
            event.wait(max(0.0, end - time.monotonic()))
