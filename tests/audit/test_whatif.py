"""whatif hands the renderers the planned inventory, not today's."""

from __future__ import annotations

from scalearc_lint.cli import build_parser
from scalearc_lint.commands.run import load_inputs
from scalearc_lint.commands.whatif import lint_whatif
from tests.conftest import EXAMPLES


def test_whatif_reports_judge_the_planned_inventory() -> None:
    lab, plan = EXAMPLES / "lab.json", EXAMPLES / "plan-good.yaml"
    args = build_parser().parse_args(["whatif", str(lab), "--plan", str(plan)])
    _, judged = lint_whatif(load_inputs([lab]), args)
    (planned,) = judged
    hosts = {
        vm.name: planned.snapshot.hosts[vm.host].name
        for vm in planned.snapshot.vms.values()
        if vm.host and vm.name.startswith("sa-orders")
    }
    assert hosts == {"sa-orders-01": "esx03.corp.example", "sa-orders-02": "esx04.corp.example"}
