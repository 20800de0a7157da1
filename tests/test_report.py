"""autograder.report on hand-made grading output: what the instructor's summary counts and lists."""

from __future__ import annotations

import csv
import json
import re

import nbformat

from autograder import report
from autograder.export import GRADE_COLUMNS, PART_COLUMNS
from autograder.layout import SOURCE

A, NB = "ch04_dropout", "dropout"
TITLE = {"test_dropout_forward": "Part 1: inverted dropout in numpy",
         "test_dropout_backward": "Part 2: the backward pass",
         "written_weight_scaling": "Part 5: written answer: when is the eval-mode output the ensemble average?"}


def _write(out, grades, parts, problems=None, notes=None, due=""):
    with open(out / "grades.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=GRADE_COLUMNS)
        w.writeheader()
        for student, score, *stamp in grades:
            w.writerow({"assignment": A, "duedate": due, "timestamp": stamp[0] if stamp else "",
                        "student_id": student, "last_name": "", "first_name": "", "email": "", "raw_score": score,
                        "late_submission_penalty": 0.0, "score": score, "max_score": 12.0, "pending_manual": 0})
    with open(out / "parts.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(PART_COLUMNS)
        w.writerows([[s, A, NB, *rest] for s, *rest in parts])
    (out / "run.json").write_text(json.dumps({"assignment": A, "problems": problems or {}, "notes": notes or {}}))


def _summary_row(page, gid):
    """The cells of the item-analysis row of the part ``gid`` (its first cell is its title)."""
    table = page.split("<h2>Item analysis</h2>")[1].split("</table>")[0]
    match = re.search(rf'<tr><td><a href="#part-{gid}">(.*?)</a></td>(.*?)</tr>', table, re.S)
    assert match, gid
    return [re.sub(r"<[^>]+>", "", match.group(1)).strip()] + re.findall(r"<td>(.*?)</td>", match.group(2), re.S)


def _mistakes(page, gid):
    """(what went wrong, students) rows of the part ``gid``."""
    section = page.split(f'<h3 id="part-{gid}">')[1].split("<h3")[0].split('<h2 id="attention">')[0]
    return [(html_unescape(a), int(b)) for a, b in re.findall(r"<tr><td>(.*?)</td><td>(\d+)</td>", section)]


def _attention(page):
    table = page.split('<h2 id="attention">Needs attention</h2>')[1]
    return [tuple(html_unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", row, re.S))
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]


def html_unescape(text):
    import html

    return html.unescape(text)


FWD_NAMED = ("✘ Likely mistake: dropout_forward does not scale the kept units by 1/(1 - p).\n"
             "Fails with every scenario.")
FWD_SCENARIOS = ("Fails with: p = 1 (dropout_forward (p = 1): wrong result); p = 0 (dropout_forward (p = 0): x was "
                 "modified in place; return a new array).\nPasses with: a float32 input.")
FWD_SCENARIOS_2 = ("Fails with: p = 1 (dropout_forward (p = 1): wrong result).\n"
                   "Passes with: p = 0, a float32 input.")
STUB = "Fails with: p = 1 (dropout_forward is not implemented yet).\nPasses with: none of the scenarios."


def test_parts_by_title_with_mistakes_one_per_row(tmp_path):
    fwd, bwd, written = "test_dropout_forward", "test_dropout_backward", "written_weight_scaling"
    parts = [
        ["alice", fwd, 2.0, 2.0, "✔ passed all 3 scenarios"],
        ["alice", bwd, 2.0, 2.0, "✔ passed"],
        ["alice", written, "", 2.0, "written answer: waiting for manual grading"],
        ["bob", fwd, 0.0, 2.0, FWD_NAMED],
        ["bob", bwd, 0.0, 2.0, "dropout_backward is not implemented yet"],
        ["bob", written, 1.5, 2.0, "written answer: graded by hand"],
        ["carol", fwd, 0.0, 2.0, FWD_SCENARIOS],
        ["carol", bwd, 2.0, 2.0, "✔ passed"],
        ["carol", written, "", 2.0, "written answer: waiting for manual grading"],
        ["dan", fwd, 0.0, 2.0, FWD_SCENARIOS_2],
        ["dan", bwd, 2.0, 2.0, "✔ passed"],
        ["dan", written, 0.0, 2.0, "written answer: not answered"],
    ]
    _write(tmp_path, [("alice", 4.0), ("bob", 1.5), ("carol", 2.0), ("dan", 2.0)], parts)
    page = report.build(tmp_path).read_text()

    # By title, in the notebook's order; the grade id is there too, for formgrader.
    titles = re.findall(r'<tr><td><a href="#part-(\w+)">', page)
    assert titles == [fwd, bwd, written]
    row = _summary_row(page, fwd)
    assert row[0].startswith(TITLE[fwd]) and fwd in row[0]
    # graded, mean, full marks, not answered, pending
    assert row[1:6] == ["4", "0.50 / 2", "25%", "0", "0"]
    # bob's stub is "not answered", not a failure with a mistake.
    assert _summary_row(page, bwd)[1:6] == ["4", "1.50 / 2", "75%", "1", "0"]
    assert _mistakes(page, bwd) == []
    # The written answer: 2 pending, 1 not answered; none of them "failed".
    assert _summary_row(page, written)[1:6] == ["2", "0.75 / 2", "0%", "1", "2"]
    assert _mistakes(page, written) == []

    # One mistake per row, counted once per student: the named one, or what differed where none was named.
    rows = _mistakes(page, fwd)
    assert rows == [("wrong result", 2),
                    ("dropout_forward does not scale the kept units by 1/(1 - p)", 1),
                    ("x was modified in place; return a new array", 1)], rows
    assert " );" not in page and "; p = 0 )" not in page
    # With the scenarios each was seen in.
    section = page.split('<h3 id="part-test_dropout_forward">')[1]
    assert re.search(r"<td>wrong result</td><td>2</td><td>50%</td><td>p = 1 \(2\)</td>", section), section
    assert "<td>every scenario (1)</td>" in section


def test_ungradable_submissions_are_not_mistakes_and_need_attention(tmp_path):
    empty = "empty submission: expected dropout.ipynb, found nothing"
    parts = [
        ["alice", "test_dropout_forward", 2.0, 2.0, "✔ passed"],
        ["carol", "test_dropout_forward", 0.0, 2.0, empty],
    ]
    _write(tmp_path, [("alice", 2.0), ("carol", 0.0)], parts, problems={"carol": empty})
    page = report.build(tmp_path).read_text()
    assert _summary_row(page, "test_dropout_forward")[1:4] == ["1", "2.00 / 2", "100%"]
    assert "empty submission" not in page.split('<h2 id="attention">')[0]
    assert ("not graded", "carol", empty) in _attention(page)


def test_partial_credit_shows_the_share_of_students_earning_each_item(tmp_path):
    parts = [
        ["alice", "test_dropout_forward", 3.0, 3.0, "✔ passed", "the update 2/2; weight_decay 0.5/0.5; float32 0.5/0.5"],
        ["bob", "test_dropout_forward", 2.5, 3.0, "✘ Points: 2.5 of 3 (the update ✔ 2 of 2 · weight_decay ✘ 0 of 0.5 "
         "· float32 ✔ 0.5 of 0.5).\nFails with: weight_decay > 0 (wrong result).\nPasses with: default settings.",
         "the update 2/2; weight_decay 0/0.5; float32 0.5/0.5"],
        ["dan", "test_dropout_forward", 0.0, 3.0, "wrong", "the update 0/2; weight_decay 0/0.5; float32 0/0.5"],
    ]
    _write(tmp_path, [("alice", 3.0), ("bob", 2.5), ("dan", 0.0)], parts)
    page = report.build(tmp_path).read_text()
    row = _summary_row(page, "test_dropout_forward")
    assert row[1:4] == ["3", "1.83 / 3", "33%"]
    assert row[6] == "the update: 67%<br>weight_decay: 33%<br>float32: 67%"
    # The points line is not a mistake; the failing scenario is.
    assert _mistakes(page, "test_dropout_forward") == [("wrong", 1), ("wrong result", 1)]


def _autograded(out, student, edit):
    """A student's autograded notebook: the source notebook's cells, answers as released, then ``edit``."""
    src = nbformat.read(SOURCE / A / f"{NB}.ipynb", as_version=4)
    for cell in src.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = "# YOUR CODE HERE\nraise NotImplementedError()" if cell.cell_type == "code" \
                else "YOUR ANSWER HERE"
        if cell.cell_type == "code":
            cell.outputs = []
    edit(src)
    path = out / "nbgrader" / "autograded" / student / A / f"{NB}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(src, path)


def _answer(nb, gid, source, outputs=()):
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    cell.source = source
    if cell.cell_type == "code":
        cell.outputs = [nbformat.from_dict(o) for o in outputs]


def test_needs_attention_lists_blank_unparsable_tampered_timed_out_and_late(tmp_path):
    fwd = "test_dropout_forward"
    syntax = {"output_type": "error", "ename": "SyntaxError", "evalue": "'(' was never closed (line 3)",
              "traceback": ["SyntaxError: '(' was never closed (line 3)"]}
    _autograded(tmp_path, "blank", lambda nb: None)
    _autograded(tmp_path, "syntax", lambda nb: _answer(nb, "dropout_forward", "def dropout_forward(x, p, rng):\n"
                                                       "    out = (x\n    return out", [syntax]))
    _autograded(tmp_path, "slow", lambda nb: _answer(nb, "dropout_forward", "while True: pass", [
        {"output_type": "error", "ename": "CellAborted", "evalue": "this cell ran too long (over 60 s) and was "
         "stopped", "traceback": []}]))
    _autograded(tmp_path, "ok", lambda nb: _answer(nb, "dropout_forward", "def dropout_forward(x, p, rng): ..."))
    parse_message = ("your dropout_forward cell raised an error: SyntaxError: '(' was never closed (line 3)\n"
                     "Nothing in that cell was defined, so this part could not be tested.")
    parts = [
        ["blank", fwd, 0.0, 2.0, STUB],
        ["blank", "written_weight_scaling", 0.0, 2.0, "written answer: graded by hand"],
        ["syntax", fwd, 0.0, 2.0, parse_message],
        ["slow", fwd, 0.0, 2.0, "testing this part failed: timed out after 120 s"],
        ["ok", fwd, 2.0, 2.0, "✔ passed"],
    ]
    unknown = "submission time unknown (no timestamp.txt, no time in the file name): graded as on time"
    notes = {"ok": ["test cell test_dropout_backward was edited (restored for grading)",
                    "graded dropout (1).ipynb as dropout.ipynb: the file was renamed (keep the notebook's name next "
                    "time)"], "blank": [unknown], "syntax": [unknown]}
    _write(tmp_path, [("blank", 0.0), ("syntax", 0.0), ("slow", 0.0, "2026-11-20 23:00:00"),
                      ("ok", 2.0, "2026-11-22 10:00:00")], parts, notes=notes, due="2026-11-20 23:59:00")
    page = report.build(tmp_path).read_text()
    rows = _attention(page)
    what = [(w, s) for w, s, _ in rows]
    assert ("blank submission", "blank") in what
    assert ("does not parse", "syntax") in what
    assert next(d for w, s, d in rows if w == "does not parse") == \
        "answer cell dropout_forward: SyntaxError: '(' was never closed (line 3)"
    assert ("tampered", "ok") in what and ("note", "ok") in what
    assert ("cell timed out or crashed", "slow") in what and ("part timed out or crashed", "slow") in what
    assert [s for w, s in what if w == "late"] == ["ok"]
    assert ("part timed out or crashed", "syntax") not in what   # it does not parse: listed as such
    # The same finding for several students is one row.
    assert [(s, d) for w, s, d in rows if w == "late? time unknown"] == [("blank, syntax", unknown)]
    # In that order: not gradable, blank, does not parse, tampered, timed out, late, notes, pending.
    order = [w for w, _ in what]
    assert order.index("blank submission") < order.index("does not parse") < order.index("tampered") \
        < order.index("cell timed out or crashed") < order.index("late") < order.index("note")
    # The blank written answer is "not answered", not a failure; the unparsable answer is no named mistake.
    assert _summary_row(page, "written_weight_scaling")[4] == "1"
    assert _summary_row(page, fwd)[4] == "1"   # blank's stub
    assert ("the answer cell does not parse (see Needs attention)", 1) in _mistakes(page, fwd)
    assert not any("not implemented" in m for m, _ in _mistakes(page, fwd))
