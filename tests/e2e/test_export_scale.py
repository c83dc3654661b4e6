"""Round trips that do not grow per VM, several vCenters at once, and the terminal progress."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections import Counter
from pathlib import Path

from scalearc_lint.snapshot.loader import load_snapshot, load_snapshots
from tests.e2e.conftest import PASSWORD_ENV, but_collectors, export, export_argv, run_cli
from tests.vcsim_support import ROOT, Vcsim, running_vcsim


def _export_calls(sim: Vcsim, out: Path) -> Counter[str]:
    before = len(sim.calls())
    run = export(sim, out)
    assert run.code == 0, run.stderr
    return Counter(sim.calls()[before:])


def test_round_trips_do_not_grow_with_the_number_of_vms(tmp_path: Path) -> None:
    with running_vcsim(host=2, vm=2) as small, running_vcsim(host=2, vm=150) as large:
        small_calls = _export_calls(small, tmp_path / "small.json")
        large_calls = _export_calls(large, tmp_path / "large.json")
    assert len(load_snapshot(tmp_path / "large.json").snapshot.vms) > 30 * len(
        load_snapshot(tmp_path / "small.json").snapshot.vms
    )
    # The same calls (but for the one PropertyCollector per reading thread, which depends on
    # scheduling), and one view and one retrieval per type (+1 for the custom field
    # definitions).
    assert but_collectors(large_calls) == but_collectors(small_calls)
    assert small_calls["SOAP RetrievePropertiesEx"] == small_calls["SOAP CreateContainerView"] + 1
    assert sum(small_calls.values()) < 50, small_calls


def test_one_failing_vcenter_does_not_stop_the_others(vcsim: Vcsim, tmp_path: Path) -> None:
    with running_vcsim(vm=3) as other:
        assert other.password != vcsim.password
        pattern = tmp_path / "snap-{vcenter}.json"
        servers = tmp_path / "servers.txt"
        servers.write_text(f"# lab vCenters\n{other.url}\n")
        argv = export_argv(
            vcsim, pattern, "--servers-file", str(servers), "--ca-file", other.ca_file
        )
        run = run_cli(argv, {PASSWORD_ENV: vcsim.password})
        # The second vCenter rejects the first one's password: the first is still written.
        assert run.code == 2
        assert f"127.0.0.1:{other.port}: login" in run.stderr
        first = tmp_path / f"snap-127.0.0.1_{vcsim.port}.json"
        assert load_snapshot(first).snapshot.source.vcenter == f"127.0.0.1:{vcsim.port}"
        assert not (tmp_path / f"snap-127.0.0.1_{other.port}.json").exists()


SSO_PASSWORD = "shared-sso-password"


def several_argv(servers: list[str], ca_files: list[str], user: str, *extra: str) -> list[str]:
    """``export`` of several vCenters sharing one SSO login (password in ``PW``)."""
    argv = ["export", "--user", user, "--password-env", "PW"]
    for server in servers:
        argv += ["--server", server]
    for ca_file in ca_files:
        argv += ["--ca-file", ca_file]
    return [*argv, *extra]


def test_several_vcenters_with_one_login_and_one_check(tmp_path: Path) -> None:
    with (
        running_vcsim(vm=2, password=SSO_PASSWORD) as one,
        running_vcsim(vm=3, password=SSO_PASSWORD) as two,
    ):
        pattern = tmp_path / "snap-{vcenter}.json"
        argv = several_argv(
            [one.url, two.url], [one.ca_file, two.ca_file], one.user, "-o", str(pattern)
        )
        run = run_cli(argv, {"PW": SSO_PASSWORD})
        assert run.code == 0, run.stderr
    files = [tmp_path / f"snap-127.0.0.1_{sim.port}.json" for sim in (one, two)]
    sources = [load_snapshot(f).snapshot for f in files]
    assert [s.source.vcenter for s in sources] == [f"127.0.0.1:{one.port}", f"127.0.0.1:{two.port}"]
    assert len(sources[0].vms) < len(sources[1].vms)
    check = run_cli(["check", *map(str, files), "--json", str(tmp_path / "results.json")])
    assert check.code in (0, 1), check.stderr


def test_merge_writes_one_bundle_that_check_reads_as_several_vcenters(tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    with (
        running_vcsim(vm=2, password=SSO_PASSWORD) as one,
        running_vcsim(vm=3, password=SSO_PASSWORD) as two,
    ):
        argv = several_argv(
            [one.url, two.url], [one.ca_file, two.ca_file], one.user, "--merge", "-o", str(out)
        )
        run = run_cli(argv, {"PW": SSO_PASSWORD})
        assert run.code == 0, run.stderr
        placeholder = run_cli(
            [*argv[:-1], str(tmp_path / "x-{vcenter}.json")], {"PW": SSO_PASSWORD}
        )
        assert placeholder.code == 2
        assert "--merge writes one file" in placeholder.stderr
    loaded = load_snapshots(out)
    assert [s.snapshot.source.vcenter for s in loaded] == [
        f"127.0.0.1:{one.port}",
        f"127.0.0.1:{two.port}",
    ]
    check = run_cli(["check", str(out), "--json", str(tmp_path / "results.json")])
    assert check.code in (0, 1), check.stderr
    document = json.loads((tmp_path / "results.json").read_text())
    assert len(document["snapshots"]) == 2


def test_merge_writes_nothing_when_a_vcenter_fails(tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    out.write_bytes(b"previous")
    with running_vcsim(vm=2, password=SSO_PASSWORD) as one:
        argv = several_argv(
            [one.url, "127.0.0.1:1"], [one.ca_file], one.user, "--merge", "-o", str(out)
        )
        run = run_cli(argv, {"PW": SSO_PASSWORD})
    assert run.code == 2
    assert f"--merge: {out} not written" in run.stderr
    assert out.read_bytes() == b"previous"


def test_progress_bar_only_on_a_terminal(vcsim: Vcsim, tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "scalearc_lint", *export_argv(vcsim, tmp_path / "snap.json")],
            env={**os.environ, "PYTHONPATH": str(ROOT), PASSWORD_ENV: vcsim.password},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        assert child.wait(timeout=60) == 0
    finally:
        os.close(controller)
    text = shown.decode()
    assert "exporting" in text and "vms" in text and "hosts" in text
    assert "wrote" in text
    assert vcsim.password not in text
