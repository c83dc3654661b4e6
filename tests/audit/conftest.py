"""Fixtures for the pre-change / nightly features: a small lab, plan files, the CLI in-process."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalearc_lint.cli import main
from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.model import Snapshot
from scalearc_lint.snapshot.sketch import build

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

#: Two HA pairs (alpha by custom attributes, beta by tags, beta-2 with a generated MAC),
#: a standalone and an ordinary VM, on four hosts of one cluster.
LAB_SKETCH: Mapping[str, Any] = {
    "hosts": 4,
    "appliances": {
        "sa-a1": {"role": "primary", "pair": "alpha", "host": "esx-1"},
        "sa-a2": {"role": "secondary", "pair": "alpha", "host": "esx-2"},
        "sa-b1": {"role": "primary", "pair": "beta", "host": "esx-3", "by": "tags"},
        "sa-b2": {
            "role": "secondary",
            "pair": "beta",
            "host": "esx-4",
            "by": "tags",
            "nics": [{"type": "generated"}],
        },
        "sa-solo": {"role": "standalone", "host": "esx-1"},
    },
    "vms": {"web-1": {"host": "esx-2"}},
}

#: One pair on a two-host cluster: maintenance of either host cannot keep it apart.
TWO_HOST_PAIR: Mapping[str, Any] = {
    "hosts": 2,
    "appliances": {
        "sa-p": {"role": "primary", "pair": "p1"},
        "sa-s": {"role": "secondary", "pair": "p1"},
    },
}


@pytest.fixture
def lab() -> Snapshot:
    """The lab snapshot."""
    return build(LAB_SKETCH)


@pytest.fixture
def lab_file(tmp_path: Path, lab: Snapshot) -> Path:
    """The lab snapshot written to a file."""
    path = tmp_path / "lab.json"
    path.write_bytes(encode_snapshot(lab))
    return path


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str, Any], Path]:
    """Write data (or text as-is) to a YAML file in tmp_path."""

    def write(name: str, content: Any) -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text)
        return path

    return write


@dataclass(frozen=True)
class Ran:
    """Exit code and output of one in-process CLI run."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """Run ``scalearc-lint ARGS`` in-process (the real argument parsing and error handling)."""

    def run(*args: str | Path) -> Ran:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


def vm_moid(snapshot: Snapshot, name: str) -> str:
    """The moid of the VM called ``name``."""
    return next(moid for moid, vm in snapshot.vms.items() if vm.name == name)


def host_of(snapshot: Snapshot, vm_name: str) -> str:
    """The name of the host ``vm_name`` runs on."""
    host = snapshot.vms[vm_moid(snapshot, vm_name)].host
    return snapshot.hosts[host or ""].name


StepList = Sequence[Mapping[str, Any]]
