"""YAML input files (config, waivers, plans) read with the line of every mapping key and item."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scalearc_lint.errors import InputError
from scalearc_lint.io.inputs import read_input_file

YamlPath = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Plain data from a YAML file plus the 1-based line of each path in it."""

    path: str
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)

    def line(self, at: YamlPath) -> int:
        """The line of ``at``, or of its nearest ancestor that has one."""
        while at and at not in self.lines:
            at = at[:-1]
        return self.lines.get(at, 1)

    def where(self, at: YamlPath) -> str:
        """``file:line`` of a path, for error messages."""
        return f"{self.path}:{self.line(at)}"


def load_yaml(path: str | Path, *, what: str) -> YamlDocument:
    """Parse one YAML document safely, or raise InputError with file and line."""
    raw = read_input_file(path, what=what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text, expected a YAML {what}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{path}{line}: not valid YAML ({problem})") from None
    if node is None:
        raise InputError(f"{path}: empty file, expected a YAML {what}")
    lines: dict[YamlPath, int] = {}
    data = _construct(node, (), lines, str(path))
    return YamlDocument(str(path), data, lines)


def _construct(node: yaml.Node, at: YamlPath, lines: dict[YamlPath, int], path: str) -> Any:
    lines.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError(f"{path}:{key_line}: mapping keys must be plain text")
            key = str(_scalar(key_node, path))
            if key in result:
                raise InputError(f"{path}:{key_line}: duplicate key {key!r}")
            lines[(*at, key)] = key_line
            result[key] = _construct(value_node, (*at, key), lines, path)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*at, i), lines, path) for i, item in enumerate(node.value)]
    return _scalar(node, path)


def _scalar(node: yaml.Node, path: str) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, yaml.YAMLError) as exc:
        # e.g. an impossible date such as 2026-13-01, which PyYAML parses as a timestamp.
        line = node.start_mark.line + 1
        raise InputError(f"{path}:{line}: cannot read {node.value!r}: {exc}") from None
    finally:
        loader.dispose()
