"""Subcommands; each module exposes ``register(subparsers)`` setting ``func`` to its runner."""

from __future__ import annotations

from types import ModuleType

from scalearc_lint.commands import (
    apply,
    check,
    diff,
    explain,
    export,
    fix,
    list_rules,
    synth,
    whatif,
)

COMMANDS: tuple[ModuleType, ...] = (
    export,
    check,
    whatif,
    fix,
    apply,
    diff,
    list_rules,
    explain,
    synth,
)
