"""SA002 at scale: ``check`` on inventories where many appliances share one MAC.

Issue 14 (class 6) measured ``check`` taking 1.6 s at 10,000 VMs with 200
appliances sharing a MAC, 7 s at 20,000/400 and 38 s at 40,000/800: each
appliance re-sorted every user of the MAC. For each size this writes a
deterministic synthetic snapshot (``synth`` plus :func:`share_one_mac`: every
appliance's first vNIC and every other VM's on one MAC, as vcsim's generated MACs), then times
``check --json`` in a fresh subprocess (wall and CPU time), median of ``--repeat`` runs. ``--repo``
measures another checkout (e.g. main before the fix) on the same files.

    python benchmarks/mac_clash.py [--sizes 10000 20000 40000] [--repeat 3] [--repo DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scalearc_lint.snapshot.loader import encode_snapshot  # noqa: E402
from scalearc_lint.snapshot.synth import SynthSpec, share_one_mac, synthesize  # noqa: E402

#: Appliances per VM, as in the issue's measurements (200 of 10,000).
APPLIANCE_SHARE = 0.02


def time_check(repo: Path, snapshot: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU time of one ``check --json`` of ``snapshot`` with ``repo``'s code, in
    seconds (CPU time is less disturbed by other work on a shared machine)."""
    env = {**os.environ, "PYTHONPATH": str(repo), "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "scalearc_lint", "check", str(snapshot), "-q"]
    argv += ["--json", str(out), "--fail-on", "never"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=repo, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    """Measure and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 40_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose check to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for vms in args.sizes:
            appliances = round(vms * APPLIANCE_SHARE)
            snapshot = share_one_mac(synthesize(SynthSpec(vms, appliances, seed=14)))
            path = Path(tmp) / f"clash-{vms}.json"
            path.write_bytes(encode_snapshot(snapshot))
            runs = [time_check(args.repo, path, Path(tmp) / "r.json") for _ in range(args.repeat)]
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(
                f"{vms:>7,} VMs, {appliances:>5,} appliances on one MAC: check {wall:.2f} s "
                f"wall, {cpu:.2f} s CPU (medians of {args.repeat})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
