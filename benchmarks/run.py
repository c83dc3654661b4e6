"""Scale benchmark: lint synthetic inventories and compare with reading the file.

For every size, ``synth`` writes a deterministic snapshot (1% of the VMs are
appliances, mostly in HA pairs), then each of these runs in a fresh subprocess,
interleaved and repeated so that machine noise hits all of them alike:

  (a) ``json.load`` of the file with the standard library, nothing else;
  (b) ``check`` writing every output it supports (console, --json, and
      --junit/--sarif/--html when this checkout has them);
  (c) ``check --json`` only.

Wall time, CPU time and peak RSS (``wait4`` rusage of that one child) are
reported as medians, with (b) and (c) as ratios to (a), and checked against the
targets. Run ``.venv/bin/python benchmarks/run.py --help``; docs/benchmarks.md
has the latest figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any, NoReturn

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (10_000, 45_000, 150_000)
APPLIANCE_SHARE = 0.01
#: check's optional report flags, and the file suffix each writes.
REPORT_FLAGS = {"--junit": "junit.xml", "--sarif": "sarif.json", "--html": "report.html"}
#: The targets (docs/benchmarks.md), checked at the largest size: with every output, at most
#: 0.8x the wall time and 1.0x the peak memory of json.load (issues 9 and 10).
WALL_TARGET = 0.8
RSS_TARGET = 1.0
LINEARITY_TARGET = 1.2

JSON_LOAD = "import json, sys\nwith open(sys.argv[1], encoding='utf-8') as f:\n    json.load(f)\n"


@dataclass(frozen=True)
class Sample:
    """One subprocess run."""

    wall_s: float
    cpu_s: float
    max_rss_kb: int
    exit_code: int


@dataclass
class Case:
    """One thing measured at one size: its command and its samples."""

    name: str
    argv: list[str]
    ok_codes: tuple[int, ...] = (0,)
    samples: list[Sample] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        """Median of one Sample attribute over the repeats."""
        return statistics.median(float(getattr(s, attribute)) for s in self.samples)


def child_env() -> dict[str, str]:
    """The environment of every child: this checkout first on the path, no debug switches,
    and Python's bytecode cache in use (as for an installed package: ``pip install``
    compiles it; with PYTHONDONTWRITEBYTECODE inherited, every run of a module changed
    since its last cached compile would compile it again and be timed doing so)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SCALEARC_LINT_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env["NO_COLOR"] = "1"
    return env


def spawn(argv: list[str], stderr_path: Path) -> Sample:
    """Run ``argv`` (stdout discarded) and measure it alone, via the rusage of its wait4."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, str(stderr_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, child_env(), file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    return Sample(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_kb=usage.ru_maxrss,  # kilobytes on Linux
        exit_code=os.waitstatus_to_exitcode(status),
    )


def cli(*args: str | int | Path) -> list[str]:
    """argv for ``python -m scalearc_lint ARGS``."""
    return [sys.executable, "-m", "scalearc_lint", *map(str, args)]


def supported_report_flags() -> list[str]:
    """The report flags this checkout's ``check`` accepts (the reports branch adds them)."""
    text = subprocess.run(
        cli("check", "--help"), capture_output=True, text=True, env=child_env(), check=True
    ).stdout
    return [flag for flag in REPORT_FLAGS if re.search(rf"{flag}\b", text)]


def synthesize(vms: int, seed: int, directory: Path) -> Path:
    """Write the deterministic snapshot for ``vms`` VMs (regenerated every run: no stale data)."""
    path = directory / f"synth-{vms}-seed{seed}.json"
    appliances = max(2, round(vms * APPLIANCE_SHARE))
    subprocess.run(
        cli("synth", "--vms", vms, "--appliances", appliances, "--seed", seed, "-o", path),
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return path


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cases_for(snapshot: Path, out: Path, flags: list[str]) -> list[Case]:
    """The three measured commands for one snapshot; outputs go under ``out``."""
    every = ["--json", str(out / "all.json")]
    for flag in flags:
        every += [flag, str(out / f"all.{REPORT_FLAGS[flag]}")]
    # A synthetic inventory has planted failures: exit 1 is the expected outcome.
    return [
        Case("json_load", [sys.executable, "-c", JSON_LOAD, str(snapshot)]),
        Case("check_all", cli("check", snapshot, *every), ok_codes=(0, 1)),
        Case("check_json", cli("check", snapshot, "--json", out / "only.json"), ok_codes=(0, 1)),
    ]


def run_script(name: str, requested: bool, flag: str) -> dict[str, Any]:
    """One of the other benchmark scripts, when asked for; else a note saying how to ask."""
    if not requested:
        return {"status": "skipped", "note": f"not requested (use {flag})"}
    script = REPO / "benchmarks" / name
    print(f"{name} ...", file=sys.stderr)
    argv = [sys.executable, str(script)]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=child_env(), check=False)
    report: dict[str, Any] = {
        "status": "ran" if proc.returncode == 0 else "failed",
        "command": argv[1:],
        "wall_s": time.perf_counter() - start,
        "exit_code": proc.returncode,
        # The scripts print their figures ("full export: 3.10 s ...", "ratio: 1.21 ...").
        "output": proc.stdout.splitlines(),
    }
    if proc.returncode != 0:
        report["stderr_tail"] = proc.stderr[-2000:]
    return report


def _printed(report: dict[str, Any], pattern: str) -> re.Match[str]:
    """The line of a script's output that matches ``pattern`` (it must have printed it)."""
    found = next(
        filter(None, (re.search(pattern, line) for line in report.get("output", []))), None
    )
    if found is None:
        fail(f"{report['command'][0]} did not print a line matching {pattern!r}")
    return found


FIGURES_START = "<!-- figures: written by benchmarks/run.py --write-docs; do not edit by hand -->"
FIGURES_END = "<!-- end of figures -->"
#: The documents that show the figures; --write-docs gives them the same text.
FIGURE_DOCS = ("README.md", "docs/benchmarks.md")


def figures(result: dict[str, Any]) -> str:
    """The published figures of one full run, as Markdown: the table and one line per part."""
    sizes, t = result["sizes"], result["targets"]
    growth = t["check_all_growth"]
    lines = [
        table(sizes),
        f"At {t['at_vms']:,} VMs `check` with every report takes "
        f"{t['wall_ratio']['value']:.2f}x the wall time and {t['rss_ratio']['value']:.2f}x the "
        f"peak memory of `json.load` (targets {WALL_TARGET}x and {RSS_TARGET}x); "
        f"{growth['vms']:.0f}x the VMs cost it {growth['wall_s']:.1f}x the time.",
    ]
    outputs = sizes[-1]["output_bytes"]
    kinds = {"JSON": "all.json", "JUnit": "all.junit.xml", "HTML": "all.report.html"}
    kinds["SARIF"] = "all.sarif.json"
    written = [f"{kind} {outputs[n] / 1e6:.1f} MB" for kind, n in kinds.items() if n in outputs]
    lines.append(f"Reports at {sizes[-1]['vms']:,} VMs: {', '.join(written)}.")
    vcsim = result["vcsim"]
    if vcsim["status"] == "ran":
        bare = _printed(vcsim, r"bare RetrievePropertiesEx.*: ([\d.]+) s \(best of (\d+)\)")
        export = _printed(vcsim, r"full export: ([\d.]+) s")
        ratio_ = _printed(vcsim, r"ratio: ([\d.]+)")
        wire = _printed(vcsim, r"response bytes read: ([\d.]+) s")
        to_wire = _printed(vcsim, r"export / bytes read: ([\d.]+)")
        memory = _printed(vcsim, r"peak memory, fast / pyVmomi: ([\d.]+)")
        lines.append(
            f"The exporter on a 10,000-VM vCenter simulator: a full export takes {ratio_[1]}x "
            f"one bare pyVmomi `RetrievePropertiesEx` of the VM properties ({export[1]} s "
            f"against {bare[1]} s, best of {bare[2]}; target 0.35x), {to_wire[1]}x the time "
            f"to read that call's response bytes ({wire[1]} s; target 2.5x), and "
            f"{memory[1]}x the peak memory of an export decoded by pyVmomi (target 1.0x)."
        )
    browser = result["browser"]
    if browser["status"] == "ran":
        found = _printed(
            browser,
            r"([\d,]+) results, ([\d.]+) MB, render [\d.]+ s; medians of (\d+): "
            r"load ([\d.]+) s, show all ([\d.]+) s, search ([\d.]+) s",
        )
        lines.append(
            f"The HTML report of {int(found[1]):,} results ({found[2]} MB) in headless Chromium: "
            f"loads in {found[4]} s, shows every result in {found[5]} s, searches in "
            f"{found[6]} s (medians of {found[3]})."
        )
    machine = result["machine"]
    lines.append(
        f"Measured {result['when'][:10]} at commit {result['commit']}: Python "
        f"{result['python']}, {machine['cpus']} cores shared with other work, medians of "
        f"{result['repeat']} rounds (`--repeat {result['repeat']}`)."
    )
    return "\n\n".join(line.rstrip("\n") for line in lines) + "\n"


def write_docs(text: str) -> None:
    """Put the figures between the markers of every figure document."""
    for name in FIGURE_DOCS:
        path = REPO / name
        doc = path.read_text(encoding="utf-8")
        if doc.count(FIGURES_START) != 1 or doc.count(FIGURES_END) != 1:
            fail(f"{name}: expected one {FIGURES_START} ... {FIGURES_END} section")
        head, rest = doc.split(FIGURES_START)
        _, tail = rest.split(FIGURES_END)
        path.write_text(f"{head}{FIGURES_START}\n{text}{FIGURES_END}{tail}", encoding="utf-8")
        print(f"figures written to {name}", file=sys.stderr)


def ratio(case: Case, base: Case, attribute: str) -> float:
    """Median of ``case`` over median of ``base``."""
    return case.median(attribute) / base.median(attribute)


def _cell(size: dict[str, Any], name: str) -> str:
    """One table cell: median wall time and peak RSS, and the ratios to json.load."""
    m = size["median"][name]
    text = f"{m['wall_s']:.2f} s · {m['max_rss_kb'] / 1024:.0f} MB"
    if name == "json_load":
        return text
    r = size["ratio"][name]
    return (
        f"{m['wall_s']:.2f} s ({r['wall_s']:.2f}x) · "
        f"{m['max_rss_kb'] / 1024:.0f} MB ({r['max_rss_kb']:.2f}x)"
    )


def table(sizes: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table (medians; "x" marks a ratio to json.load)."""
    lines = [
        "| VMs | file | (a) json.load | (b) check, all outputs | (c) check --json |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s['vms']:,} | {s['file_bytes'] / 1e6:.0f} MB | {_cell(s, 'json_load')} | "
        f"{_cell(s, 'check_all')} | {_cell(s, 'check_json')} |"
        for s in sizes
    ]
    return "\n".join(lines) + "\n"


def targets(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """The targets, judged on (b) at the largest and smallest sizes measured."""
    big, small = sizes[-1], sizes[0]
    wall = big["ratio"]["check_all"]["wall_s"]
    rss = big["ratio"]["check_all"]["max_rss_kb"]
    linear = wall / small["ratio"]["check_all"]["wall_s"]
    growth = big["median"]["check_all"]["wall_s"] / small["median"]["check_all"]["wall_s"]
    return {
        "at_vms": big["vms"],
        # Informational: (a) itself grows faster than linearly, so also say how (b) grows.
        "check_all_growth": {"vms": big["vms"] / small["vms"], "wall_s": growth},
        "wall_ratio": {"value": wall, "target": WALL_TARGET, "met": wall <= WALL_TARGET},
        "rss_ratio": {"value": rss, "target": RSS_TARGET, "met": rss <= RSS_TARGET},
        "linearity": {
            "value": linear,
            "target": LINEARITY_TARGET,
            "met": linear <= LINEARITY_TARGET,
            "between_vms": [small["vms"], big["vms"]],
        },
    }


def git_describe() -> str:
    """The commit measured (with ``-dirty`` when the tree has changes)."""
    result = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def fail(message: str) -> NoReturn:
    """One line on stderr and exit 2: something the benchmark needs is missing or failed."""
    print(f"benchmarks/run.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def preflight(args: argparse.Namespace) -> None:
    """Say in one line what is missing before measuring anything (exit 2)."""
    missing = [name for name in ("msgspec", "yaml", "jinja2") if find_spec(name) is None]
    if missing:
        fail(
            f"{', '.join(missing)} not installed for {sys.executable}: run it with the project's "
            "venv, .venv/bin/python benchmarks/run.py (set up as the README's quick start says)"
        )
    if args.with_vcsim:
        vcsim_problem = vcsim_missing()
        if vcsim_problem:
            fail(vcsim_problem)
    for script, wanted in (
        ("export_vcsim.py", args.with_vcsim),
        ("report_load.py", args.with_browser),
    ):
        if wanted:
            check = subprocess.run(
                [sys.executable, str(REPO / "benchmarks" / script), "--preflight"],
                capture_output=True,
                text=True,
                env=child_env(),
                check=False,
            )
            if check.returncode != 0:
                fail(check.stderr.strip().splitlines()[-1] if check.stderr.strip() else script)


def vcsim_missing() -> str | None:
    """Why the exporter benchmark cannot run here, or None."""
    if not (REPO / "tests" / "vcsim" / "vcsim").exists() and shutil.which("go") is None:
        return (
            "vcsim is not built (tests/vcsim/vcsim) and cannot be: no `go` "
            "(install golang-go and golang-github-vmware-govmomi-dev)"
        )
    if find_spec("pyVmomi") is None:
        return f"pyVmomi not installed for {sys.executable}: use .venv/bin/python"
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(n.replace("_", "")) for n in text.split(",")],
        default=list(DEFAULT_SIZES),
        metavar="N,N,...",
        help="inventory sizes in VMs (default 10000,45000,150000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="synth seed (default 1)")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "scalearc-lint-bench",
        help="where snapshots and outputs go (default: $TMPDIR/scalearc-lint-bench)",
    )
    parser.add_argument("--output", type=Path, help="results JSON (default: WORKDIR/results.json)")
    parser.add_argument(
        "--with-vcsim",
        action="store_true",
        help="also run benchmarks/export_vcsim.py (the exporter against 10,000 vcsim VMs)",
    )
    parser.add_argument(
        "--with-browser",
        action="store_true",
        help="also run benchmarks/report_load.py (100,000 results in headless Chromium)",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="one full run (default sizes, --with-vcsim, --with-browser) whose figures replace "
        "those in README.md and docs/benchmarks.md",
    )
    parser.add_argument(
        "--preflight",
        action="store_true",
        help="only check that everything the options need is here, then exit 0",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or not args.sizes or min(args.sizes) < 2:
        parser.error("--repeat must be >= 1 and every size >= 2")
    args.sizes = sorted(set(args.sizes))
    if args.write_docs:
        if args.sizes != sorted(DEFAULT_SIZES):
            parser.error("--write-docs publishes a full run: leave --sizes at its default")
        args.with_vcsim = args.with_browser = True
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate, measure, print the table, write the results JSON; 1 when a target is missed."""
    args = parse_args(argv)
    preflight(args)
    if args.preflight:
        print("benchmarks/run.py: ready", file=sys.stderr)
        return 0
    try:
        return measure(args)
    except subprocess.CalledProcessError as error:
        fail(f"{' '.join(map(str, error.cmd[1:]))} exited {error.returncode}: {last_line(error)}")


def last_line(error: subprocess.CalledProcessError) -> str:
    """The last line a failed child printed on stderr (it went to our stderr otherwise)."""
    text = error.stderr if isinstance(error.stderr, str) else ""
    return text.strip().splitlines()[-1] if text.strip() else "see its output above"


def measure(args: argparse.Namespace) -> int:
    """Generate, measure, print, write the results JSON; 1 when a target is missed."""
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    flags = supported_report_flags()
    missing = [f for f in REPORT_FLAGS if f not in flags]
    print(f"(b) runs check with --json {' '.join(flags)}".rstrip(), file=sys.stderr)
    if missing:
        print(f"    this checkout's check has no {' '.join(missing)} yet", file=sys.stderr)

    measured: list[tuple[int, Path, list[Case]]] = []
    for vms in args.sizes:
        print(f"synth {vms:,} VMs ...", file=sys.stderr)
        snapshot = synthesize(vms, args.seed, workdir)
        out = workdir / f"out-{vms}"
        out.mkdir(exist_ok=True)
        measured.append((vms, snapshot, cases_for(snapshot, out, flags)))

    # Compile this checkout's modules as pip install would; then one unrecorded round at the
    # smallest size loads shared libraries and fills the page cache.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            str(REPO / "scalearc_lint"),
            str(REPO / "rules"),
        ],
        env=child_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    for case in measured[0][2]:
        spawn(case.argv, workdir / f"warmup-{case.name}.stderr")
    for round_ in range(args.repeat):
        for vms, _, cases in measured:
            # Rotate the order each round so no case always runs first (cold cache, turbo).
            shift = round_ % len(cases)
            for case in cases[shift:] + cases[:shift]:
                sample = spawn(case.argv, workdir / f"{case.name}-{vms}.stderr")
                if sample.exit_code not in case.ok_codes:
                    err = (workdir / f"{case.name}-{vms}.stderr").read_text(errors="replace")
                    last = err.strip().splitlines()[-1] if err.strip() else "no message"
                    fail(f"{case.name} at {vms:,} VMs exited {sample.exit_code}: {last}")
                case.samples.append(sample)
                print(
                    f"  [{round_ + 1}/{args.repeat}] {vms:>7,} {case.name:10} "
                    f"{sample.wall_s:6.2f} s {sample.max_rss_kb / 1024:6.0f} MB",
                    file=sys.stderr,
                )

    sizes: list[dict[str, Any]] = []
    for vms, snapshot, cases in measured:
        by_name = {c.name: c for c in cases}
        base = by_name["json_load"]
        metrics = ("wall_s", "cpu_s", "max_rss_kb")
        out = snapshot.parent / f"out-{vms}"
        sizes.append(
            {
                "vms": vms,
                "appliances": max(2, round(vms * APPLIANCE_SHARE)),
                "file_bytes": snapshot.stat().st_size,
                "sha256": sha256(snapshot),
                "commands": {c.name: c.argv[1:] for c in cases},
                "samples": {c.name: [asdict(s) for s in c.samples] for c in cases},
                "median": {c.name: {m: c.median(m) for m in metrics} for c in cases},
                "ratio": {
                    c.name: {m: ratio(c, base, m) for m in metrics} for c in cases if c is not base
                },
                "output_bytes": {p.name: p.stat().st_size for p in sorted(out.iterdir())},
            }
        )
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_describe(),
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "repeat": args.repeat,
        "seed": args.seed,
        "report_flags": flags,
        "sizes": sizes,
        "targets": targets(sizes),
        "vcsim": run_script("export_vcsim.py", args.with_vcsim, "--with-vcsim"),
        "browser": run_script("report_load.py", args.with_browser, "--with-browser"),
    }
    output: Path = args.output or workdir / "results.json"
    output.write_text(json.dumps(result, indent=2) + "\n")

    print(table(sizes))
    t = result["targets"]
    print(f"Targets at {t['at_vms']:,} VMs, (b) against (a), medians of {args.repeat}:")
    for key, label in (
        ("wall_ratio", "wall time"),
        ("rss_ratio", "peak RSS"),
        ("linearity", f"wall ratio at {sizes[-1]['vms']:,} / at {sizes[0]['vms']:,}"),
    ):
        verdict = "met" if t[key]["met"] else "MISSED"
        print(f"  {label}: {t[key]['value']:.2f} (target <= {t[key]['target']}) {verdict}")
    g = t["check_all_growth"]
    print(f"  (b) itself: {g['vms']:.1f}x the VMs took {g['wall_s']:.1f}x the wall time")
    for part, label in (("vcsim", "vcsim export benchmark"), ("browser", "browser benchmark")):
        report = result[part]
        print(f"{label}: {report['status']}", end="")
        print(f" ({report['note']})" if "note" in report else ":")
        for line in report.get("output", []):
            print(f"  {line}")
        if report["status"] == "failed":
            print(report["stderr_tail"])
    print(f"results: {output}")
    print("\nThe figures as the docs show them:\n")
    text = figures(result)
    print(text)
    if args.write_docs:
        if any(result[part]["status"] != "ran" for part in ("vcsim", "browser")):
            fail("a part of the run failed: the docs keep their figures")
        write_docs(text)
    return 0 if all(t[k]["met"] for k in ("wall_ratio", "rss_ratio", "linearity")) else 1


if __name__ == "__main__":
    sys.exit(main())
