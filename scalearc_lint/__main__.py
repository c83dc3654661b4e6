"""``python -m scalearc_lint``, and the installed ``scalearc-lint`` command's entry point."""

import signal

# Until the CLI installs its own handler, Ctrl-C just ends the process (default action):
# importing the CLI must not end in a KeyboardInterrupt traceback.
signal.signal(signal.SIGINT, signal.SIG_DFL)

from scalearc_lint.cli import console_main  # noqa: E402 - after the signal default is set

if __name__ == "__main__":
    console_main()
