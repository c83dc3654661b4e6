"""``python -m scalearc_lint``, and the installed ``scalearc-lint`` command's entry point."""

# Until the CLI installs its own handler, Ctrl-C just ends the process (default action):
# importing the CLI must not end in a KeyboardInterrupt traceback. ``_signal`` is the
# interpreter's own module, loaded before any program code runs, so this line cannot be
# interrupted half-way; ``import signal`` imports ``enum`` first (a few milliseconds of
# Python code in which a Ctrl-C would print a traceback).
import _signal  # type: ignore[import-not-found]  # no typeshed stub; same API as signal

_signal.signal(_signal.SIGINT, _signal.SIG_DFL)

from scalearc_lint.cli import console_main  # noqa: E402 - after the signal default is set

if __name__ == "__main__":
    console_main()
