"""Errors that end a run with exit code 2 and one clear line."""


class InputError(Exception):
    """Bad usage or bad input: the message is one line, shown as-is, exit code 2."""


class UserInterrupt(KeyboardInterrupt):
    """The user pressed Ctrl-C (SIGINT arrived). The CLI raises this, not a plain
    KeyboardInterrupt, so that a KeyboardInterrupt raised by a rule's own code can be
    told apart and isolated as that rule's crash, while a real Ctrl-C still ends the run."""
