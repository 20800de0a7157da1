"""Every graded part states its contract and tries every item of it on a hidden scenario.

The contract (``Part.contract``) lists what the exercise's text promises, including the PyTorch/scikit-learn
behaviours the specification admits (None and zero gradients, parameter groups, dtypes, edge values, unsorted
inputs, ...). A contract item without a scenario is a behaviour no hidden test builds: a wrong answer there passes.
"""

from __future__ import annotations

import pytest

from autograder.verdicts import Credit, Failure, Mistake, Part, Scenario, judge, parts_of, scenario_report
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


def test_feedback_names_the_mistake_every_failing_scenario_names_first():
    part = _part(("defaults", _ok), ("weight_decay > 0", _named), ("two groups", _named), ("lr change", _ok))
    with pytest.raises(Failure) as info:
        part.judge([{"ok": True, "value": 1}] * 4)
    lines = str(info.value).splitlines()
    assert lines[0] == "Likely mistake: you used the training data."
    assert lines[1] == "Fails with: weight_decay > 0; two groups."
    assert lines[2] == "Passes with: defaults, lr change."


def test_a_mistake_that_explains_only_some_failures_is_not_named():
    """Issue 23: a named mistake that one (degenerate) scenario cannot tell apart, while the answer fails others
    for another reason, is not the answer's mistake: the report says what differs, never the name."""
    def degenerate(values):
        raise Mistake("f (n = 2): you divided by n, the population std", key="population_std", plain="wrong value")

    part = _part(("n = 2", degenerate), ("n = 5", _wrong), ("n = 1", _ok))
    with pytest.raises(Failure) as info:
        part.judge([{"ok": True, "value": 1}] * 3)
    text = str(info.value)
    assert "population" not in text and "Likely mistake" not in text
    assert text.splitlines() == ["Fails with: n = 2 (wrong value); n = 5 (wrong value).", "Passes with: n = 1."]


def test_two_different_named_mistakes_name_neither():
    def other(values):
        raise Mistake("f: you forgot the bias correction", key="no_bias_correction")

    part = _part(("a", _named), ("b", other), ("c", _ok))
    with pytest.raises(Failure) as info:
        part.judge([{"ok": True, "value": 1}] * 3)
    assert "Likely mistake" not in str(info.value) and "training data" not in str(info.value)


def test_a_degenerate_scenario_consistent_with_two_mistakes_names_the_one_every_failure_shares():
    def ambiguous(values):   # n = 2: the population std and the standard error coincide
        raise Mistake("f (n = 2): you divided by n", key="population_std", also=("standard_error",))

    def clear(values):
        raise Mistake("f (n = 5): you reported the standard error, not the std", key="standard_error")

    part = _part(("n = 2", ambiguous), ("n = 5", clear), ("n = 1", _ok))
    with pytest.raises(Failure) as info:
        part.judge([{"ok": True, "value": 1}] * 3)
    assert str(info.value).splitlines()[0] == "Likely mistake: f (n = 5): you reported the standard error, not the std."
    # alone, the ambiguous scenario names neither
    part = _part(("n = 2", ambiguous), ("n = 1", _ok))
    with pytest.raises(Failure) as info:
        part.judge([{"ok": True, "value": 1}] * 2)
    assert "Likely mistake" not in str(info.value)


def test_a_mistake_key_ignores_the_numbers_in_its_message():
    assert Mistake("f (p = 0.3): out: right to 2e-05").key == Mistake("f (p = 0.7): out: right to 3e-06").key


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


def test_a_mistake_that_a_passing_scenario_rules_out_is_not_named():
    """A scenario the answer passes, whose model of the mistake would have failed, shows the answer did not make it:
    the failing scenario then says what differs instead of naming the mistake."""
    def named(values):
        raise Mistake("Adam: bias corrections use the step count off by one", key="off_by_one",
                      plain="differs from step 3")

    def rules_out(values):
        return {"off_by_one"}

    def rules_out_nothing(values):
        return set()

    with pytest.raises(Failure) as info:
        _part(("a", named), ("b", rules_out)).judge([{"ok": True, "value": 1}] * 2)
    assert str(info.value).splitlines() == ["Fails with: a (differs from step 3).", "Passes with: b."]
    with pytest.raises(Failure) as info:
        _part(("a", named), ("b", rules_out_nothing)).judge([{"ok": True, "value": 1}] * 2)
    assert str(info.value).splitlines()[0] == "Likely mistake: Adam: bias corrections use the step count off by one."


def test_report_without_named_mistake_starts_with_the_failures():
    text = scenario_report([("a", Failure("differs from step 3")), ("b", None)])
    assert text.splitlines() == ["Fails with: a (differs from step 3).", "Passes with: b."]


# ------------------------------------------------------------- partial credit by contract item

def _credit_part():
    checks = {"core": _ok, "wd": _wrong, "dtype": _ok}
    return Part("answer", contract={"core": "c", "wd": "w", "dtype": "d"},
                scenarios=[Scenario(k, [{"kind": "call", "name": "f", "args": []}], c, (k,)) for k, c in checks.items()],
                credit=[Credit("the update", 2.0, ("core",)), Credit("weight_decay", 0.5, ("wd",)),
                        Credit("float32", 0.5, ("dtype",))])


def test_a_part_earns_the_credits_whose_items_all_pass():
    verdict = judge(_credit_part(), {"values": [{"ok": True, "value": 1}] * 3}, "", None)
    assert not verdict.passed and verdict.fraction == pytest.approx(2.5 / 3)
    assert verdict.message.splitlines()[0] == "Points: 2.5 of 3 (the update ✔ 2 of 2 · weight_decay ✘ 0 of 0.5 · " \
                                              "float32 ✔ 0.5 of 0.5)."


def test_a_static_failure_or_a_crash_earns_nothing():
    part = _credit_part()
    part.static = lambda source: (_ for _ in ()).throw(Failure("uses torch.optim.SGD"))
    assert judge(part, {"values": [{"ok": True, "value": 1}] * 3}, "", None).fraction == 0
    assert judge(_credit_part(), {"error": "killed"}, "", None).fraction == 0


def _notebook(assignment):
    import nbformat

    from autograder.course import SOURCE, assignments
    (name,) = assignments()[assignment]
    return nbformat.read(SOURCE / assignment / f"{name}.ipynb", as_version=4)


@pytest.mark.parametrize("assignment,grade_id", PARTS)
def test_credits_partition_the_contract_and_add_up_to_the_cells_points(assignment, grade_id):
    """Issue 23: every part gives points per contract item, the core most of them, and students see the weights
    in the exercise text."""
    part = parts_of(assignment)[grade_id]
    assert part.credit, f"{assignment}:{grade_id} has no credit= list"
    items = [i for c in part.credit for i in c.items]
    assert sorted(items) == sorted(part.contract), f"{assignment}:{grade_id}: credits must partition the contract"
    nb = _notebook(assignment)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    points = float(cell.metadata["nbgrader"]["points"])
    assert sum(c.points for c in part.credit) == pytest.approx(points)
    assert all(c.points > 0 and (4 * c.points) == int(4 * c.points) for c in part.credit)
    assert part.credit[0].points >= points / 2, "the core behaviour earns at least half the points"
    line = "**Points:** " + " · ".join(f"{c.label} ({c.points:g})" for c in part.credit)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert line in text, f"{assignment}: the exercise text must show the weights as: {line}"



def test_a_static_check_that_breaks_one_item_costs_that_items_credit_only():
    """A value-correct answer written with a forbidden shortcut (e.g. np.linalg.inv) loses the credit of the item
    the shortcut breaks, not the whole part."""
    part = _credit_part()
    part.scenarios[1].check = _ok      # every scenario passes
    part.static = lambda source: (_ for _ in ()).throw(Mistake("do not form the inverse matrix", items=("wd",)))
    verdict = judge(part, {"values": [{"ok": True, "value": 1}] * 3}, "", None)
    assert not verdict.passed and verdict.fraction == pytest.approx(2.5 / 3)
    assert "do not form the inverse matrix" in verdict.message and "weight_decay ✘ 0 of 0.5" in verdict.message


def test_an_answer_wrong_at_its_core_earns_no_option_credit():
    """Options are shares of a working core: `return 0.0` that happens to meet an edge case earns nothing."""
    part = _credit_part()
    part.scenarios[0].check, part.scenarios[1].check = _wrong, _ok   # core wrong, weight_decay and float32 right
    verdict = judge(part, {"values": [{"ok": True, "value": 1}] * 3}, "", None)
    assert verdict.fraction == 0 and "Points:" not in verdict.message
