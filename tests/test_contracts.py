"""Every graded part states its contract and tries every item of it on a hidden scenario.

The contract (``Part.contract``) lists what the exercise's text promises, including the PyTorch/scikit-learn
behaviours the specification admits (None and zero gradients, parameter groups, dtypes, edge values, unsorted
inputs, ...). A contract item without a scenario is a behaviour no hidden test builds: a wrong answer there passes.
"""

from __future__ import annotations

import pytest

from autograder.verdicts import Failure, Mistake, Part, Scenario, parts_of, scenario_report
from conftest import ASSIGNMENTS

PARTS = [(a, gid) for a in sorted(ASSIGNMENTS) for gid in sorted(parts_of(a))]


@pytest.mark.parametrize("assignment,grade_id", PARTS)
def test_every_part_is_graded_by_scenarios(assignment, grade_id):
    part = parts_of(assignment)[grade_id]
    assert part.scenarios, f"{assignment}:{grade_id} has no scenarios (write its contract and scenarios)"
    assert part.contract, f"{assignment}:{grade_id} has no written contract"


@pytest.mark.parametrize("assignment,grade_id", PARTS)
def test_every_contract_item_has_a_scenario(assignment, grade_id):
    part = parts_of(assignment)[grade_id]
    covered = {item for s in part.scenarios for item in s.covers}
    missing = sorted(set(part.contract) - covered)
    assert not missing, f"{assignment}:{grade_id}: contract items no scenario covers: {missing}"
    unknown = sorted(covered - set(part.contract))
    assert not unknown, f"{assignment}:{grade_id}: scenarios cover items not in the contract: {unknown}"
    idle = [s.label for s in part.scenarios if not s.covers]
    assert not idle, f"{assignment}:{grade_id}: scenarios that cover no contract item: {idle}"
    labels = [s.label for s in part.scenarios]
    assert len(labels) == len(set(labels)), f"{assignment}:{grade_id}: two scenarios share a label"


# ------------------------------------------------------------- the feedback a part gives

def _part(*checks):
    return Part("answer", contract={"x": "x"},
                scenarios=[Scenario(label, [{"kind": "call", "name": "f", "args": []}], check, ("x",))
                           for label, check in checks])


def _ok(values):
    pass


def _wrong(values):
    raise Failure("wrong value")


def _named(values):
    raise Mistake("you used the training data")


def test_feedback_lists_every_scenario_failed_and_passed_with_the_named_mistake_first():
    part = _part(("defaults", _ok), ("weight_decay > 0", _wrong), ("two groups", _named), ("lr change", _ok))
    with pytest.raises(Failure) as info:
        part.judge([{"ok": True, "value": 1}] * 4)
    lines = str(info.value).splitlines()
    assert lines[0] == "Likely mistake: you used the training data."
    assert lines[1] == "Fails with: weight_decay > 0 (wrong value); two groups."
    assert lines[2] == "Passes with: defaults, lr change."


def test_one_shared_message_is_given_once():
    part = _part(("a", _wrong), ("b", _wrong))
    with pytest.raises(Failure, match="^wrong value$"):
        part.judge([{"ok": True, "value": 1}] * 2)


def test_a_check_that_breaks_is_a_failure_of_that_scenario_only():
    def broken(values):
        raise ZeroDivisionError

    part = _part(("a", broken), ("b", _ok))
    with pytest.raises(Failure) as info:
        part.judge([{"ok": True, "value": 1}] * 2)
    assert "Fails with: a (your answer could not be checked" in str(info.value)
    assert "Passes with: b." in str(info.value)


def test_a_part_takes_scenarios_or_a_judge_not_both():
    with pytest.raises(ValueError):
        Part("answer", calls=[{}], judge=_ok, scenarios=[Scenario("a", [], _ok, ("x",))])
    with pytest.raises(ValueError):
        Part("answer")


def test_one_named_mistake_everywhere_is_still_named():
    part = _part(("a", _named), ("b", _named))
    with pytest.raises(Failure) as info:
        part.judge([{"ok": True, "value": 1}] * 2)
    assert str(info.value).splitlines() == ["Likely mistake: you used the training data.", "Fails with every scenario."]


def test_report_without_named_mistake_starts_with_the_failures():
    text = scenario_report([("a", Failure("differs from step 3")), ("b", None)])
    assert text.splitlines() == ["Fails with: a (differs from step 3).", "Passes with: b."]
