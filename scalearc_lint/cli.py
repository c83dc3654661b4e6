"""The ``scalearc-lint`` command line: subcommands, exit codes, one-line errors.

Every way a run ends is one line on stderr at most and a documented exit code: 0 and 1
from the lint, 2 for bad usage or input (also an unexpected internal error, which is
never a 0), 3 when a rule crashed, 130 when interrupted. Ctrl-C never prints a
traceback: the commands are imported inside the handler, and once the run is over the
default SIGINT action is restored, so a Ctrl-C during interpreter shutdown just ends the
process.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from scalearc_lint import __version__
from scalearc_lint.errors import InputError, UserInterrupt
from scalearc_lint.io.outputs import (
    forget_written_outputs,
    silence_stdout,
    stdout_failed,
    written_outputs,
)
from scalearc_lint.text import clipped, describe_exception, printable, redact_urls

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130
#: Longest error line printed; a longer one (thousands of vCenters) is cut, saying so.
MAX_MESSAGE = 4000


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, with any password in a URL hidden."""

    def error(self, message: str) -> NoReturn:
        _print_error(f"{message} (see {self.prog} --help)", prefix=f"{self.prog}: error: ")
        self.exit(EXIT_INPUT)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    from scalearc_lint.commands import COMMANDS

    parser = _Parser(
        prog="scalearc-lint",
        description=(
            "Lint vSphere inventories against ScaleArc's VM best practices. "
            "Exit codes: 0 nothing at/above --fail-on, 1 failures, 2 bad usage or input, "
            "3 a rule crashed, 130 interrupted."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def _print_error(message: str, *, prefix: str = "scalearc-lint: error: ") -> None:
    """One line on stderr: newlines folded, passwords in URLs hidden, length bounded."""
    if sys.stderr is None:
        return
    # One line, whatever the message quotes: newlines folded, other control characters
    # (a vertical tab, an escape sequence in a YAML key) shown escaped.
    line = printable(redact_urls(" ".join(message.split("\n"))))
    if len(line) > MAX_MESSAGE:
        line = f"{clipped(line, MAX_MESSAGE)} ({len(line) - MAX_MESSAGE + 1:,} more characters)"
    with contextlib.suppress(OSError):  # stderr itself is gone: the exit code still tells
        print(prefix + line, file=sys.stderr, flush=True)


def _interrupt_message() -> str:
    written = written_outputs()
    if not written:
        return "interrupted; no output was written (existing files are unchanged)"
    return f"interrupted; these outputs had been written: {', '.join(written)}"


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    raise UserInterrupt


def _use_safe_streams() -> None:
    """Never fail on printing a name the terminal's encoding lacks (PYTHONIOENCODING=ascii)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError):
                reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None, *, console: bool = False) -> int:
    """Run the CLI and return its exit code.

    ``console`` (the installed command) leaves SIGINT at its default action afterwards,
    for the interpreter's shutdown; otherwise the previous handler is put back.
    """
    previous = signal.getsignal(signal.SIGINT)
    in_main_thread = _install_sigint_handler()
    forget_written_outputs()
    _use_safe_streams()
    try:
        return _run(argv)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, signal.SIG_DFL if console else previous)


def _install_sigint_handler() -> bool:
    try:
        signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread (a test calling main): leave signals alone
        return False
    return True


def _run(argv: Sequence[str] | None) -> int:
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(argv)
        code: int = args.func(args)
        if sys.stdout is not None:
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise stdout_failed(exc) from None
        return code
    except InputError as exc:
        _print_error(str(exc))
        return EXIT_INPUT
    except KeyboardInterrupt:
        _print_error(_interrupt_message(), prefix="scalearc-lint: ")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (`| head`). Harmless for listing commands; a
        # linting command that did not finish its output must not look successful.
        silence_stdout()
        return EXIT_INPUT if args is not None and hasattr(args, "fail_on") else 0
    except SystemExit:
        if args is None:
            raise  # argparse: --help, --version, or a usage error already printed
        _print_error("internal error: the run called exit() (please report it)")
        return EXIT_INPUT
    except Exception as exc:
        if os.environ.get("SCALEARC_LINT_DEBUG"):
            raise
        _print_error(
            f"internal error: {describe_exception(exc)} "
            "(set SCALEARC_LINT_DEBUG=1 for a traceback, and please report it)"
        )
        return EXIT_INPUT


def console_main() -> NoReturn:
    """The installed ``scalearc-lint`` command."""
    _exit(main(console=True))


def _exit(code: int) -> NoReturn:
    """End the process with ``code``, without the interpreter freeing every object first.

    A run over 150,000 VMs holds millions of objects; freeing them one by one at shutdown
    took about 0.15 s, after the work was done. Everything a shutdown does that matters
    is done here: the exit handlers run (logging is flushed) and stdout and stderr are
    flushed. Only then, and only with no other thread still running, does the process
    end at once; otherwise (or when a flush fails) the interpreter shuts down as usual.
    """
    if threading.active_count() == 1:
        atexit._run_exitfuncs()
        try:
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
        except (OSError, ValueError):
            sys.exit(code)
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    console_main()
