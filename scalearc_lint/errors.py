"""Errors that end a run with exit code 2 and one clear line."""


class InputError(Exception):
    """Bad usage or bad input: the message is one line, shown as-is, exit code 2."""
