"""Every rule's documented examples run as tests: the docs cannot drift from the behaviour."""

from __future__ import annotations

import msgspec
import pytest

from scalearc_lint.engine.appliance_id import EXAMPLES as ID001_EXAMPLES
from scalearc_lint.engine.appliance_id import ID001
from scalearc_lint.engine.evaluate import discover_rules
from scalearc_lint.engine.rule import Example, Rule
from scalearc_lint.snapshot.identification import ApplianceSelection
from scalearc_lint.snapshot.sketch import build_estate
from scalearc_lint.testing import run_rule

CASES = [
    *(
        pytest.param(item.rule, example, id=f"{item.rule.id}-{i}")
        for item in discover_rules(plugins=False)
        for i, example in enumerate(item.rule.examples)
    ),
    *(
        pytest.param(ID001.id, example, id=f"{ID001.id}-{i}")
        for i, example in enumerate(ID001_EXAMPLES)
    ),
]


def test_every_builtin_rule_has_passing_and_failing_examples() -> None:
    examples = {item.rule.id: item.rule.examples for item in discover_rules(plugins=False)}
    for rule_id, rule_examples in {**examples, ID001.id: ID001_EXAMPLES}.items():
        statuses = {s.value for e in rule_examples for s in e.expect.values()}
        assert {"pass", "fail"} <= statuses, rule_id


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_rule_example(rule: Rule | str, example: Example) -> None:
    results = run_rule(
        rule,
        build_estate(example.sketch),
        options=example.options,
        selection=msgspec.convert(dict(example.appliances), ApplianceSelection),
    )
    by_name = {r.object.name: r for r in results}
    rule_id = rule if isinstance(rule, str) else rule.id
    for name, expected in example.expect.items():
        assert name in by_name, f"{rule_id} gave no result for {name}: {results}"
        assert by_name[name].status == expected, by_name[name].message
