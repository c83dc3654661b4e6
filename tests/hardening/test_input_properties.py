"""Property: whatever bytes or JSON/YAML tree an input holds, the run gives a normal result or
one line and exit 2 — never a traceback, a catch-all ``internal error``, a crash or a hang.

Every input path is fed: snapshot, bundle, config, waivers, plan, baseline, and both results
files of ``diff``. Each run is in-process (``main``), so hundreds of examples stay fast; a
watchdog (faulthandler) ends the test run with every thread's stack should one example hang.
Run deeper with ``SCALEARC_HYPOTHESIS_PROFILE=stress`` (500 examples each).
"""

from __future__ import annotations

import copy
import faulthandler
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES
from tests.hardening.kit import LAB
from tests.hardening.kit import run_in_process as run

#: Seconds one example may take before it counts as a hang (a normal one takes ~0.1 s).
HANG = 120

_WORK = Path(tempfile.mkdtemp(prefix="salint-props-"))
_LAB_RESULTS = _WORK / "lab-results.json"
assert run(["check", LAB, "--json", _LAB_RESULTS, "-q"]).code == 1

LAB_DOC: dict[str, Any] = json.loads(LAB.read_text())
RESULTS_DOC: dict[str, Any] = json.loads(_LAB_RESULTS.read_text())
CONFIG_DOC: dict[str, Any] = {
    "appliances": {"by": "attributes", "role_attribute": "scalearc-role"},
    "rules": {
        "SA008": {"max_age": "24h"},
        "SA003": {"strict": True},
        "static-mac": {"severity": "warning"},
        "SA010": {"enabled": False},
    },
}
WAIVERS_DOC: dict[str, Any] = yaml.safe_load((EXAMPLES / "waivers.yaml").read_text())
PLAN_DOC: dict[str, Any] = yaml.safe_load((EXAMPLES / "plan-bad.yaml").read_text())


def _other_vcenter(doc: dict[str, Any]) -> dict[str, Any]:
    other = copy.deepcopy(doc)
    other["source"] = {**other["source"], "vcenter": "vc-two.example", "instance_uuid": "two"}
    return other


BUNDLE_DOC: dict[str, Any] = {
    "schema_version": LAB_DOC["schema_version"],
    "snapshots": [LAB_DOC, _other_vcenter(LAB_DOC)],
}

# -- strategies ------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "vm-1", "host-1", "2026-11-24T02:00:00Z", "24h", "fail", "9999-12-31"]),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=12,
)
_DELETE = object()


def _paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*at, index))


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return document if value is _DELETE else value
    result = copy.copy(document)
    head, rest = path[0], path[1:]
    if not rest and value is _DELETE:
        del result[head]
    else:
        result[head] = _replaced(document[head], rest, value)
    return result


def mutations(document: Any) -> st.SearchStrategy[Any]:
    """``document`` with one node (anywhere in it) replaced by a generated tree, or removed."""
    paths = sorted(_paths(document), key=repr)
    return st.builds(
        _replaced,
        st.just(document),
        st.sampled_from(paths),
        st.one_of(trees, scalars, st.just(_DELETE)),
    )


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _yaml(value: Any) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True).encode()


#: Syntax-heavy YAML fragments: anchors, aliases, merge keys, tags, flow and block styles.
YAML_PIECES = (
    *("a", "b:", " ", "\n", "\t", "- ", "? ", ",", "#", "|", ">", "'", '"', "\ufeff"),
    *("&x ", "*x", "<<: ", "[", "]", "{", "}", "!!str ", "!!python/object:os.system "),
    *("---", "...", "%YAML 1.1", "rules:", "waivers:", "steps:", "SA008:", "max_age: "),
    *(".inf", "9999-12-31"),
)
yaml_soup = st.lists(st.sampled_from(YAML_PIECES), max_size=40).map(
    lambda parts: "".join(parts).encode()
)


def json_inputs(document: Any) -> st.SearchStrategy[bytes]:
    """Bytes for a JSON input: raw bytes, a random tree, or the valid document mutated."""
    return st.one_of(
        st.binary(max_size=300),
        trees.map(_json),
        mutations(document).map(_json),
        mutations(document).map(_json).map(lambda b: b[: len(b) // 2]),  # cut short
    )


def yaml_inputs(document: Any) -> st.SearchStrategy[bytes]:
    """Bytes for a YAML input: raw bytes, YAML soup, a random tree, or the document mutated."""
    return st.one_of(
        st.binary(max_size=300),
        yaml_soup,
        trees.map(_yaml),
        mutations(document).map(_yaml),
    )


#: Each input path: the strategy for its content and the argv that reads it.
INPUTS: dict[str, tuple[st.SearchStrategy[bytes], Callable[[Path], list[str | Path]]]] = {
    "snapshot": (json_inputs(LAB_DOC), lambda p: ["check", p]),
    "bundle": (json_inputs(BUNDLE_DOC), lambda p: ["check", p]),
    "config": (yaml_inputs(CONFIG_DOC), lambda p: ["check", LAB, "--config", p]),
    "waivers": (yaml_inputs(WAIVERS_DOC), lambda p: ["check", LAB, "--waivers", p]),
    "plan": (yaml_inputs(PLAN_DOC), lambda p: ["whatif", LAB, "--plan", p]),
    "baseline": (json_inputs(RESULTS_DOC), lambda p: ["check", LAB, "--baseline", p]),
    "diff old": (json_inputs(RESULTS_DOC), lambda p: ["diff", p, _LAB_RESULTS]),
    "diff new": (json_inputs(RESULTS_DOC), lambda p: ["diff", _LAB_RESULTS, p]),
}


def assert_clean_outcome(argv: list[str | Path]) -> None:
    """A normal result (0/1, warnings at most), or exactly one error line and exit 2."""
    faulthandler.dump_traceback_later(HANG, exit=True)
    try:
        result = run(argv)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert "Traceback" not in result.stderr, result.stderr
    if result.code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("scalearc-lint: error: "), result.stderr
        assert "internal error" not in lines[0], lines[0]
    else:
        assert result.code in (0, 1), (result.code, result.stderr, result.stdout[-2000:])
        for line in result.stderr.splitlines():
            assert line.startswith("scalearc-lint: warning: "), result.stderr


@pytest.mark.parametrize("kind", sorted(INPUTS))
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_any_input_gives_a_result_or_one_line(kind: str, data: st.DataObject) -> None:
    strategy, argv_for = INPUTS[kind]
    path = _WORK / f"input-{kind.replace(' ', '-')}"
    path.write_bytes(data.draw(strategy, label=kind))
    assert_clean_outcome(argv_for(path))
