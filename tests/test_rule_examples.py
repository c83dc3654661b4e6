"""Every rule's documented examples run as tests: the docs cannot drift from the behaviour."""

from __future__ import annotations

import pytest

from scalearc_lint.engine.evaluate import discover_rules
from scalearc_lint.engine.rule import Example, Rule
from scalearc_lint.snapshot.sketch import build
from scalearc_lint.testing import run_rule

CASES = [
    pytest.param(item.rule, example, id=f"{item.rule.id}-{i}")
    for item in discover_rules(plugins=False)
    for i, example in enumerate(item.rule.examples)
]


def test_every_builtin_rule_has_passing_and_failing_examples() -> None:
    for item in discover_rules(plugins=False):
        statuses = {s.value for e in item.rule.examples for s in e.expect.values()}
        assert {"pass", "fail"} <= statuses, item.rule.id


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_rule_example(rule: Rule, example: Example) -> None:
    results = run_rule(rule, build(example.sketch), options=example.options)
    by_name = {r.object.name: r for r in results}
    for name, expected in example.expect.items():
        assert name in by_name, f"{rule.id} gave no result for {name}: {results}"
        assert by_name[name].status == expected, by_name[name].message
