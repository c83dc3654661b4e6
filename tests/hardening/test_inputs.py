"""Every bad input is one line and exit 2: never a hang, an unbounded read or an internal error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from scalearc_lint.commands.export import summarise_failures
from scalearc_lint.io.yamlfile import MAX_YAML_DEPTH
from scalearc_lint.snapshot.loader import MAX_SNAPSHOT_DEPTH, encode_snapshot
from scalearc_lint.snapshot.sketch import build
from tests.conftest import EXAMPLES, REPO, run_cli
from tests.hardening.kit import LAB, one_error_line
from tests.hardening.kit import run_in_process as run

PLAN = EXAMPLES / "plan-good.yaml"


@pytest.fixture(scope="module")
def lab_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("results") / "lab-results.json"
    assert run(["check", LAB, "--json", path, "-q"]).code == 1
    return path


#: Every input path of the linting commands, as an argv with ``{bad}`` where the input goes.
def input_paths(lab_results: Path) -> dict[str, list[str]]:
    return {
        "snapshot": ["check", "{bad}"],
        "config": ["check", str(LAB), "--config", "{bad}"],
        "waivers": ["check", str(LAB), "--waivers", "{bad}"],
        "plan": ["whatif", str(LAB), "--plan", "{bad}"],
        "baseline": ["check", str(LAB), "--baseline", "{bad}"],
        "diff old": ["diff", "{bad}", str(lab_results)],
        "diff new": ["diff", str(lab_results), "{bad}"],
    }


KINDS = ["snapshot", "config", "waivers", "plan", "baseline", "diff old", "diff new"]
YAML_KINDS = ["config", "waivers", "plan"]
JSON_KINDS = ["snapshot", "baseline", "diff old", "diff new"]


def run_with(kind: str, bad: Path | str, lab_results: Path) -> str:
    """Run the command of ``kind`` with ``bad`` as that input; return its one error line."""
    argv = [a.replace("{bad}", str(bad)) for a in input_paths(lab_results)[kind]]
    result = run(argv)
    assert result.code == 2, (result.code, result.stderr)
    return one_error_line(result)


# -- class 5: non-regular files, sizes ------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_fifo_without_a_writer_is_refused_at_once(
    kind: str, tmp_path: Path, lab_results: Path
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "is a FIFO (named pipe)" in run_with(kind, fifo, lab_results)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("device", "what"), [("/dev/zero", "a character device")])
def test_an_endless_device_is_refused_unread(
    kind: str, device: str, what: str, lab_results: Path
) -> None:
    assert f"is {what}, expected a" in run_with(kind, device, lab_results)


@pytest.mark.parametrize("kind", KINDS)
def test_a_directory_is_refused(kind: str, tmp_path: Path, lab_results: Path) -> None:
    assert "is a directory" in run_with(kind, tmp_path, lab_results)


@pytest.mark.parametrize("kind", KINDS)
def test_a_huge_sparse_file_is_refused_from_its_size(
    kind: str, tmp_path: Path, lab_results: Path
) -> None:
    big = tmp_path / "big"
    with big.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # 2 GB of holes: no disk used, nothing to read
    line = run_with(kind, big, lab_results)
    assert "2048.0 MB is more than the" in line
    assert "set SCALEARC_LINT_MAX_INPUT_MB to raise it" in line


def test_the_input_limit_is_configurable(tmp_path: Path) -> None:
    assert run(["check", LAB, "-q"], env={"SCALEARC_LINT_MAX_INPUT_MB": "1"}).code == 1
    big = tmp_path / "snap.json"
    shutil.copy(LAB, big)
    with big.open("ab") as handle:
        handle.write(b" " * 2 * 1024 * 1024)
    result = run(["check", big], env={"SCALEARC_LINT_MAX_INPUT_MB": "1"})
    assert result.code == 2
    assert "is more than the 1 MB limit for a JSON snapshot" in one_error_line(result)
    for bad in ("lots", "0", "-5"):
        result = run(["check", LAB], env={"SCALEARC_LINT_MAX_INPUT_MB": bad})
        assert "SCALEARC_LINT_MAX_INPUT_MB" in one_error_line(result)


@pytest.mark.parametrize("source", ["fifo", "/dev/zero", "non-UTF-8", "missing", "directory"])
def test_the_servers_file_is_read_as_safely(source: str, tmp_path: Path) -> None:
    path = tmp_path / "servers"
    if source == "fifo":
        os.mkfifo(path)
    elif source == "/dev/zero":
        path = Path("/dev/zero")
    elif source == "non-UTF-8":
        path.write_bytes(b"vc1.example\n\xff\xfe\xfa.example\n")
    elif source == "directory":
        path = tmp_path
    result = run(["export", "--servers-file", path, "-o", tmp_path / "s.json"])
    assert result.code == 2
    one_error_line(result)


# -- class 5: YAML alias bombs, and class 7: deep nesting -----------------------------------

BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
)


@pytest.mark.parametrize("kind", YAML_KINDS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BILLION_LAUGHS, "counting each use of an alias"),
        ("a: &a [*a]\n", "an alias that contains itself"),
        ("[" * 20000 + "]" * 20000, f"nested more than {MAX_YAML_DEPTH} levels deep"),
        ("a:\n" + "".join(" " * i + "- \n" for i in range(1, 200)), "nested more than"),
        ("{a: " * 5000 + "1" + "}" * 5000, "nested more than"),
    ],
)
def test_a_hostile_yaml_file_is_one_line(
    kind: str, text: str, expected: str, tmp_path: Path, lab_results: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert expected in run_with(kind, bad, lab_results)


@pytest.mark.parametrize("kind", JSON_KINDS)
@pytest.mark.parametrize("text", ["[" * 20000 + "]" * 20000, '{"a":' * 20000 + "1" + "}" * 20000])
def test_deep_json_nesting_is_one_line(
    kind: str, text: str, tmp_path: Path, lab_results: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    assert "nested too deeply" in run_with(kind, bad, lab_results)


def _lab_with_snapshot_tree(depth: int) -> bytes:
    lab = json.loads(LAB.read_text())
    node: dict[str, object] = {}
    tree = node
    for level in range(depth):
        node.update(moid=f"snap-{level}", name=f"s{level}", created="2026-11-20T00:00:00Z")
        if level < depth - 1:
            child: dict[str, object] = {}
            node["children"] = [child]
            node = child
    lab["vms"]["vm-1"]["snapshots"] = [tree]
    # json.dumps recurses too: write the tree by hand, then splice it in.
    return json.dumps(lab).encode()


@pytest.mark.parametrize("depth", [MAX_SNAPSHOT_DEPTH + 1, 400])
def test_a_snapshot_tree_deeper_than_vsphere_allows_is_named(depth: int, tmp_path: Path) -> None:
    bad = tmp_path / "deep.json"
    bad.write_bytes(_lab_with_snapshot_tree(depth))
    result = run(["check", bad])
    line = one_error_line(result)
    assert f'$.vms["vm-1"].snapshots: the snapshot tree is more than {MAX_SNAPSHOT_DEPTH}' in line


def test_a_5000_deep_snapshot_tree_is_one_line(tmp_path: Path) -> None:
    lab = LAB.read_text()
    nodes = "".join(
        f'{{"moid":"s{i}","name":"s","created":"2026-11-20T00:00:00Z","children":['
        for i in range(5000)
    )
    tree = nodes + "]}" * 5000
    bad = tmp_path / "deep.json"
    bad.write_text(lab.replace('"snapshots":[', '"snapshots":[' + tree + ",", 1))
    assert "nested too deeply" in one_error_line(run(["check", bad]))


def test_a_snapshot_tree_of_sane_depth_is_fine(tmp_path: Path) -> None:
    ok = tmp_path / "ok.json"
    ok.write_bytes(_lab_with_snapshot_tree(40))
    assert run(["check", ok, "-q"]).code == 1


# -- class 7: values that overflowed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "waived"),
    [
        ("9999-12-31", True),
        ("'9999-12-31'", True),
        ("9999-12-31T23:59:59-05:00", True),
        ("0001-01-01", False),
        ("0001-01-01T00:00:00+05:00", False),
    ],
)
def test_extreme_waiver_expiry_dates_work(expires: str, waived: bool, tmp_path: Path) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "waivers:\n  - rule: SA004\n    object: {name: billing}\n    reason: r\n"
        f"    owner: o\n    ticket: T-1\n    expires: {expires}\n"
    )
    out = tmp_path / "r.json"
    result = run(["check", LAB, "--waivers", waivers, "--json", out, "-q"])
    assert result.code == 1, result.stderr
    statuses = {r["status"] for r in json.loads(out.read_text())["results"] if r["rule"] == "SA004"}
    assert ("waived" in statuses) is waived


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("99999999999d", "longer than the longest duration accepted, 36500d"),
        (".inf", "longer than the longest duration accepted"),
        ("-.inf", "not negative"),
        (".nan", "expected a duration"),
        ("1000000000000000000000000000000", "longer than the longest duration"),
        ("P99999999D", "longer than the longest duration"),
        ("9" * 5000 + "d", "expected a duration such as 24h"),
    ],
)
def test_absurd_durations_are_one_line(value: str, expected: str, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"rules:\n  SA008:\n    max_age: {value}\n")
    line = one_error_line(run(["check", LAB, "--config", config]))
    assert f"{config}:3: rules.SA008.max_age:" in line
    assert expected in line
    assert len(line) < 300


def test_the_longest_duration_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("rules:\n  SA008: {max_age: 36500d}\n")
    assert run(["check", LAB, "--config", config, "-q"]).code == 1


@pytest.mark.parametrize("days", ["1000000", "3651", str(10**30)])
def test_events_days_is_bounded_before_any_connection(days: str, tmp_path: Path) -> None:
    # The server does not exist: the bound is checked before any attempt to reach it.
    result = run(
        ["export", "--server", "vc.invalid", "--events-days", days, "-o", tmp_path / "s.json"]
    )
    assert result.code == 2
    assert "argument --events-days:" in one_error_line(result)


@pytest.mark.parametrize("vms", [str(10**12), "1000001"])
def test_synth_is_bounded(vms: str, tmp_path: Path) -> None:
    result = run(["synth", "--vms", vms, "-o", tmp_path / "s.json"])
    assert result.code == 2
    assert "argument --vms:" in one_error_line(result)
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("https://..:443/sdk", "'..' is not a valid host name"),
        ("https://" + "v" * 100_000 + "/sdk", "a server name of 100,012 characters is too long"),
        ("a." * 200 + "example", "is not a valid host name"),
        ("x" * 64 + ".example", "is not a valid host name"),
        ("https://[::1/sdk", "invalid port or address"),
        ("https://vc:-1/sdk", "invalid port or address"),
        ("https://vc:65536/sdk", "invalid port or address"),
        ("https://:443/sdk", "no host name"),
        ("ftp://vc/sdk", "only https"),
        ("vc\x00.example", "is not a valid host name"),
        ("v c.example", "is not a valid host name"),
    ],
)
def test_odd_server_strings_are_one_line(server: str, expected: str, tmp_path: Path) -> None:
    result = run(["export", "--server", server, "--user", "u", "-o", tmp_path / "s.json"])
    assert result.code == 2
    line = one_error_line(result)
    assert expected in line
    assert len(line) < 400


def test_a_servers_file_with_a_bom_is_read(tmp_path: Path) -> None:
    servers = tmp_path / "servers"
    servers.write_bytes(b"\xef\xbb\xbfhttps://..:1/\n")
    result = run(["export", "--servers-file", servers, "--user", "u", "-o", tmp_path / "s"])
    assert "'..' is not a valid host name" in one_error_line(result)


def _child(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "ascii"},
        check=False,
    )


def test_non_ascii_names_on_an_ascii_terminal(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    sketch = {"appliances": {"sä-ünï©ødé-01": {"snapshots": ["50h"]}, "数据库-02": {}}}
    snapshot.write_bytes(encode_snapshot(build(sketch)))
    proc = _child(f"{sys.executable} -m scalearc_lint check {snapshot}")
    assert proc.returncode == 1, proc.stderr
    assert "s\\xe4-\\xfcn\\xef\\xa9\\xf8d\\xe9-01" in proc.stdout
    assert proc.stderr == ""
    proc = _child(f"{sys.executable} -m scalearc_lint check {tmp_path / 'ünï.json'}")
    assert proc.returncode == 2
    assert "no such file" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "command",
    [
        "check {lab} --json - > /dev/full",
        "check {lab} --sarif /dev/stdout > /dev/full",
        "check {lab} > /dev/full",
        "check {lab} --json - >&-",
        "diff {res} {res} --json - > /dev/full",
        "rules > /dev/full",
    ],
)
def test_output_that_cannot_be_written_is_one_line(command: str, lab_results: Path) -> None:
    proc = _child(f"{sys.executable} -m scalearc_lint " + command.format(lab=LAB, res=lab_results))
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("scalearc-lint: error: ")
    assert "internal error" not in proc.stderr


# -- class 7: duplicate keys, merge keys -------------------------------------------------------


def _lab_text() -> str:
    return LAB.read_text()


@pytest.mark.parametrize(
    ("edit", "where", "key"),
    [
        (lambda t: t.replace('"vms":{', '"vms":{"vm-1":{},', 1), "$.vms", "vm-1"),
        (
            lambda t: t.replace('"name":"sa-orders-01"', '"name":"a","name":"sa-orders-01"', 1),
            '$.vms["vm-1"]',
            "name",
        ),
        (
            lambda t: t.replace('{"schema_version":3', '{"schema_version":3,"schema_version":3', 1),
            "$",
            "schema_version",
        ),
    ],
)
def test_duplicate_keys_in_a_snapshot_are_named(
    edit: Callable[[str], str], where: str, key: str, tmp_path: Path
) -> None:
    bad = tmp_path / "dup.json"
    text = edit(_lab_text())
    assert text != _lab_text()
    bad.write_text(text)
    line = one_error_line(run(["check", bad]))
    assert f'{where}: the key "{key}" appears twice' in line


def test_duplicate_keys_in_a_bundle_and_in_results_are_named(
    tmp_path: Path, lab_results: Path
) -> None:
    lab = _lab_text()
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        '{"schema_version":1,"snapshots":[' + lab.replace('"vms":{', '"vms":{"vm-2":{},', 1) + "]}"
    )
    assert '$.snapshots[0].vms: the key "vm-2" appears twice' in one_error_line(
        run(["check", bundle])
    )
    results = tmp_path / "results.json"
    results.write_text(
        lab_results.read_text().replace('"version": 2', '"version": 2, "version": 2')
    )
    assert '$: the key "version" appears twice' in one_error_line(
        run(["diff", results, lab_results])
    )


def test_yaml_merge_keys_are_supported(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "defaults: &quiet {severity: warning}\n"
        "rules:\n"
        "  SA004: {<<: *quiet}\n"
        "  SA005:\n    <<: *quiet\n    severity: error\n"
    )
    # 'defaults' is not a config key: merge keys work, unknown keys still do not.
    assert "defaults: unknown key" in one_error_line(run(["check", LAB, "--config", config]))
    config.write_text(
        "rules:\n"
        "  SA004: &quiet {severity: info}\n"
        "  SA005: {<<: *quiet}\n"
        "  SA006:\n    <<: [*quiet, {enabled: false}]\n"
    )
    out = tmp_path / "r.json"
    assert run(["check", LAB, "--config", config, "--json", out, "-q"]).code == 1
    results = json.loads(out.read_text())["results"]
    assert {r["severity"] for r in results if r["rule"] in ("SA004", "SA005")} == {"info"}
    assert not [r for r in results if r["rule"] == "SA006"]


def test_a_bad_merge_is_one_line_naming_its_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("rules:\n  SA004:\n    <<: 5\n")
    line = one_error_line(run(["check", LAB, "--config", config]))
    assert f"{config}:3: a merge key (<<) takes a mapping" in line


def test_an_error_in_merged_waiver_fields_names_the_line_written(tmp_path: Path) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - &base\n    rule: SA004\n    object: {name: billing}\n    reason: r\n"
        "    owner: o\n    ticket: T-1\n    expires: 2999-01-01\n"
        "  - <<: *base\n    expires: someday\n"
    )
    line = one_error_line(run(["check", LAB, "--waivers", waivers]))
    assert f"{waivers}:10: waiver 2 (SA004): expires:" in line


# -- class 9: messages ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_file_names_what_was_expected(
    kind: str, tmp_path: Path, lab_results: Path
) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n  \n")
    line = run_with(kind, empty, lab_results)
    expected = "YAML" if kind in YAML_KINDS else "JSON"
    assert f"empty file, expected a {expected} " in line


@pytest.mark.parametrize("kind", YAML_KINDS)
def test_a_yaml_file_of_comments_only_is_an_empty_document(
    kind: str, tmp_path: Path, lab_results: Path
) -> None:
    comments = tmp_path / "c.yaml"
    comments.write_text("# nothing here yet\n")
    assert "empty document, expected a YAML" in run_with(kind, comments, lab_results)


def test_malformed_json_says_json_with_a_capital(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("x")
    line = one_error_line(run(["check", bad]))
    assert "JSON is malformed" in line and "jSON" not in line


def test_a_truncated_snapshot_says_so(tmp_path: Path) -> None:
    bad = tmp_path / "cut.json"
    bad.write_text(_lab_text()[:500])
    assert "not valid JSON (the file is truncated)" in one_error_line(run(["check", bad]))


@pytest.mark.parametrize("kind", KINDS)
def test_a_utf8_bom_is_accepted(kind: str, tmp_path: Path, lab_results: Path) -> None:
    sources = {
        "snapshot": LAB,
        "config": EXAMPLES / "waivers.yaml",
        "waivers": EXAMPLES / "waivers.yaml",
        "plan": PLAN,
        "baseline": lab_results,
        "diff old": lab_results,
        "diff new": lab_results,
    }
    with_bom = tmp_path / "bom"
    with_bom.write_bytes(b"\xef\xbb\xbf" + sources[kind].read_bytes())
    argv = [a.replace("{bad}", str(with_bom)) for a in input_paths(lab_results)[kind]]
    result = run(argv)
    if kind == "config":  # a waivers file is not a config: judged, so it was read
        assert "waivers: unknown key" in one_error_line(result)
    else:
        assert result.code in (0, 1), result.stderr


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("mark", "encoding"),
    [(b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"), (b"\xff\xfe\x00\x00", "UTF-32")],
)
def test_other_byte_order_marks_are_named(
    kind: str, mark: bytes, encoding: str, tmp_path: Path, lab_results: Path
) -> None:
    bad = tmp_path / "utf16"
    bad.write_bytes(mark + "{}".encode("utf-16-le"))
    assert f"starts with a {encoding} byte-order mark; save the file as UTF-8" in run_with(
        kind, bad, lab_results
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("num_cpu", 10**30, '$.vms["vm-1"].num_cpu: Expected `int` <= 4096'),
        ("num_cpu", -1, '$.vms["vm-1"].num_cpu: Expected `int` >= 0'),
        ("memory_mb", -4, '$.vms["vm-1"].memory_mb: Expected `int` >= 0'),
        ("memory_mb", 2**62, '$.vms["vm-1"].memory_mb: Expected `int` <='),
    ],
)
def test_impossible_sizes_are_refused_with_their_path(
    field: str, value: int, expected: str, tmp_path: Path
) -> None:
    lab = json.loads(_lab_text())
    lab["vms"]["vm-1"][field] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(lab))
    assert expected in one_error_line(run(["check", bad]))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("hosts", "host-1", "cpu_mhz"), -1),
        (("hosts", "host-1", "portgroups", 0, "vlan_id"), 4096),
        (("vms", "vm-1", "cpu_allocation", "reservation"), -5),
        (("vms", "vm-1", "memory_allocation", "limit"), -2),
        (("vms", "vm-1", "nics", 0, "key"), 2**64),
    ],
)
def test_other_bounds_name_the_json_path(
    path: tuple[str | int, ...], value: int, tmp_path: Path
) -> None:
    lab = json.loads(_lab_text())
    node = lab
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(lab))
    line = one_error_line(run(["check", bad]))
    assert f'$.{path[0]}["{path[1]}"]' in line and str(path[-1]) in line


def test_thousands_of_failed_vcenters_are_summarised() -> None:
    problems = [f"vc{i:04d}.example: connection refused; check the host" for i in range(3000)]
    problems += [f"vc-x{i}.example: TLS handshake failed (reset)" for i in range(7)]
    text = summarise_failures(problems)
    assert text.startswith("3,007 vCenters failed: 3,000 x connection refused; check the host")
    assert "(vc0000.example, vc0001.example, vc0002.example and 2,997 more)" in text
    assert "7 x TLS handshake failed (reset)" in text
    assert len(text) < 400
    assert summarise_failures(problems[:3]) == "; ".join(problems[:3])


def test_an_export_of_many_unreachable_vcenters_is_one_short_line(tmp_path: Path) -> None:
    servers = tmp_path / "servers"
    servers.write_text("".join(f"127.0.0.1:{port}\n" for port in range(1, 61)))
    result = run_cli(
        [
            "export",
            "--servers-file",
            servers,
            "--user",
            "u",
            "--password-env",
            "PW",
            "--timeout",
            "60",
            "-o",
            tmp_path / "s-{vcenter}.json",
        ],
        env={"PW": "x"},
    )
    assert result.code == 2
    line = one_error_line(result)
    assert "60 vCenters failed: " in line
    assert len(line) < 1500
    assert list(tmp_path.glob("s-*")) == []


def test_warnings_for_thousands_of_vcenters_are_summed_up(tmp_path: Path) -> None:
    one = json.loads(
        encode_snapshot(build({"appliances": {"sa-1": {}}, "unreadable": [{"kind": "tags"}]}))
    )
    snapshots = [
        {**one, "source": {**one["source"], "vcenter": f"vc{i}.example", "instance_uuid": str(i)}}
        for i in range(2000)
    ]
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"schema_version": one["schema_version"], "snapshots": snapshots}))
    # The copies share every MAC, and one estate's MACs are compared across its vCenters:
    # SA002 fails everywhere, which is not what this test is about.
    result = run(["check", bundle, "-q", "--fail-on", "never"])
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 6
    assert lines[-1].startswith("scalearc-lint: warning: 1,995 more snapshots could not be read")
