"""YAML input files (config, waivers, plans) read with the line of every mapping key and item.

The documents are built here from PyYAML's node graph (``yaml.compose``), not by
PyYAML's constructor, so that every key keeps its line. That also means PyYAML's own
protections do not apply, so this module bounds what a hostile file can cost:

- aliases: an alias is expanded every time it is used, so a few lines of nested aliases
  (a "billion laughs") would expand to billions of values. At most
  :data:`MAX_YAML_VALUES` values are built from one file, aliases included;
- nesting: at most :data:`MAX_YAML_DEPTH` levels (a recursive alias counts as infinitely
  deep), checked on the event stream before anything is composed;
- merge keys (``<<: *base``) are supported as YAML 1.1 defines them: the keys of the
  merged mapping(s) are added where the mapping itself does not have them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scalearc_lint.errors import InputError
from scalearc_lint.io.inputs import TEXT_LIMIT_MB, decode_text, read_input_file

YamlPath = tuple[str | int, ...]

#: Values (mappings, sequences, scalars) built from one file, each alias use counted again.
MAX_YAML_VALUES = 100_000
#: Nesting levels of mappings and sequences in one file.
MAX_YAML_DEPTH = 64

_MERGE_TAG = "tag:yaml.org,2002:merge"


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
    raw = read_input_file(path, what=f"YAML {what}", limit_mb=TEXT_LIMIT_MB)
    return parse_yaml(decode_text(raw, path, what=f"YAML {what}"), path, what=what)


def parse_yaml(text: str, path: str | Path, *, what: str) -> YamlDocument:
    """Parse YAML text (named ``path`` in messages) as :func:`load_yaml` parses a file."""
    try:
        _check_depth(text, path)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{path}{line}: not valid YAML ({problem})") from None
    if node is None:
        raise InputError(f"{path}: empty document, expected a YAML {what}")
    builder = _Builder(str(path))
    data = builder.build(node, (), 0)
    return YamlDocument(str(path), data, builder.lines)


def _check_depth(text: str, path: str | Path) -> None:
    """Refuse nesting deeper than MAX_YAML_DEPTH, reading events (no recursion, no building)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 1
                raise InputError(
                    f"{path}:{line}: nested more than {MAX_YAML_DEPTH} levels deep; "
                    "not a scalearc-lint YAML file"
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _Builder:
    """Plain data from a node graph, counting every value built (aliases included)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines: dict[YamlPath, int] = {}
        self.built = 0
        # One constructor for every scalar: creating one per scalar costs more than the parse.
        self._constructor = yaml.SafeLoader("")

    def _fail(self, node: yaml.Node, message: str) -> InputError:
        return InputError(f"{self.path}:{node.start_mark.line + 1}: {message}")

    def build(self, node: yaml.Node, at: YamlPath, depth: int) -> Any:
        self.built += 1
        if self.built > MAX_YAML_VALUES:
            raise self._fail(
                node,
                f"holds more than {MAX_YAML_VALUES:,} values, counting each use of an alias "
                "(an alias bomb?); not a scalearc-lint YAML file",
            )
        if depth > MAX_YAML_DEPTH:
            # Only a recursive alias gets here: the event check bounds written nesting.
            raise self._fail(
                node,
                f"nested more than {MAX_YAML_DEPTH} levels deep (an alias that contains itself?)",
            )
        self.lines.setdefault(at, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, at, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*at, i), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, at: YamlPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError(f"{self.path}:{key_line}: mapping keys must be plain text")
            key = str(self._scalar(key_node))
            if key in result:
                raise InputError(f"{self.path}:{key_line}: duplicate key {key!r}")
            self.lines[(*at, key)] = key_line
            result[key] = self.build(value_node, (*at, key), depth + 1)
        for merge in merges:
            for source in self._merge_sources(merge):
                self._merge(source, result, at, depth)
        return result

    def _merge(
        self, source: yaml.MappingNode, into: dict[str, Any], at: YamlPath, depth: int
    ) -> None:
        """Add the keys of a merged mapping that ``into`` lacks (its own keys and earlier
        merges win, as YAML 1.1 says), with the lines where the merged values are written."""
        outer, self.lines = self.lines, {}
        try:
            values = self._mapping(source, at, depth + 1)
        finally:
            source_lines, self.lines = self.lines, outer
        lines_by_key: dict[str | int, list[tuple[YamlPath, int]]] = {}
        for path, line in source_lines.items():
            if len(path) > len(at):
                lines_by_key.setdefault(path[len(at)], []).append((path, line))
        for key, value in values.items():
            if key not in into:
                into[key] = value
                for path, line in lines_by_key.get(key, ()):
                    self.lines.setdefault(path, line)

    def _merge_sources(self, node: yaml.Node) -> list[yaml.MappingNode]:
        if isinstance(node, yaml.MappingNode):
            return [node]
        if isinstance(node, yaml.SequenceNode) and all(
            isinstance(item, yaml.MappingNode) for item in node.value
        ):
            return list(node.value)
        raise self._fail(node, "a merge key (<<) takes a mapping or a list of mappings")

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            value = self._constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            # e.g. an impossible date such as 2026-13-01, which PyYAML parses as a timestamp.
            raise self._fail(node, f"cannot read {node.value!r}: {exc}") from None
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                # A "\ud800" escape: no report or results file could hold it.
                raise self._fail(
                    node, "text with a lone surrogate escape is not Unicode text"
                ) from None
        return value
