"""Subcommands; each module exposes ``register(subparsers)`` setting ``func`` to its runner."""

from __future__ import annotations

from types import ModuleType

from scalearc_lint.commands import check, explain, list_rules, synth

COMMANDS: tuple[ModuleType, ...] = (check, list_rules, explain, synth)
