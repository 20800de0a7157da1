"""The instructor's report: one self-contained HTML page per graded assignment.

It reads what `grade` wrote (grades.csv, parts.csv, run.json, and the autograded notebooks under
``nbgrader/autograded``) and shows
- the grade distribution (a histogram, embedded as a PNG);
- the parts, by their titles (the ``## `` heading above them in the source notebook): the mean, the share with
  full marks, how many did not answer, how many answers wait for a human, the share earning each scored item
  (partial credit);
- per part, what went wrong: one row per named mistake ("Likely mistake: ...") or, when no mistake is named,
  per failing scenario, with the number of students (among graded submissions only; ungradable ones are listed
  under attention);
- the submissions that need attention: not gradable, blank (nothing answered), cells that do not parse (with the
  error and its line), tampered notebooks (notes), parts or cells that timed out or crashed, late work, other
  notes, written answers waiting for a human.
Everything is inline, so the file can be mailed or opened offline.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from .feedback_exporter import split_top

TROUBLE = re.compile(r"timed out|ran too long|killed by|ended the process|MemoryError|could not be tested", re.I)
PARSE_ERRORS = ("SyntaxError", "IndentationError", "TabError")
TAMPERED = re.compile(r"^test cell .* was (edited|deleted|changed)|kernel was changed", re.I)
PARSE_FAILURE = re.compile(r"cell raised an error: (?:%s)" % "|".join(PARSE_ERRORS))
TIME_UNKNOWN = re.compile(r"submission time unknown", re.I)
STUB = re.compile(r"^\s*raise\s+NotImplementedError\b", re.M)
UNANSWERED_TEXT = ("YOUR ANSWER HERE", "")


# ---------------------------------------------------------------- reading feedback messages
def _label_and_detail(item: str) -> tuple[str, str]:
    """"p = 1 (dropout_forward (p = 1): wrong result)" -> ("p = 1", "dropout_forward (p = 1): wrong result")."""
    item = item.strip()
    if not item.endswith(")"):
        return item, ""
    depth = 0
    for i in range(len(item) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(item[i], 0)
        if depth == 0:
            label = item[:i].strip()
            return (label, item[i + 1:-1].strip()) if label else (item, "")
    return item, ""


def _body(message: str) -> str:
    """A part's message without its ✔/✘ mark and its partial-credit points line."""
    lines = re.sub(r"^[✔✘]\s*", "", message.strip()).splitlines()
    if lines and lines[0].startswith("Points: "):
        lines = lines[1:]
    return "\n".join(lines).strip()


def mistakes_of(message: str) -> list[tuple[str, str]]:
    """What a failed part's message says went wrong, as (what, where) pairs: the named mistake with each scenario
    that shows it; when no mistake is named, what differed in each failing scenario (the scenario's message
    without the call it quotes), with that scenario; otherwise the message's first line."""
    body = _body(message)
    fails = re.search(r"^Fails with: (.+)$", body, re.M)
    items = [_label_and_detail(item) for item in split_top(fails.group(1).strip().rstrip("."))] if fails else []
    named = re.search(r"^Likely (?:mistake|cause): (.+)$", body, re.M)
    if named:
        mistake = named.group(1).strip().rstrip(".")
        return [(mistake, label) for label, _ in items] or [(mistake, "every scenario")]
    if items:
        return [(detail.split(": ", 1)[-1] if detail else "wrong", label) for label, detail in items]
    if PARSE_FAILURE.search(body):
        return [("the answer cell does not parse (see Needs attention)", "")]
    first = body.splitlines()[0] if body else ""
    return [(first[:200], "")] if first else []


def _key(text: str) -> str:
    """Rows that differ only in numbers are the same row."""
    return re.sub(r"\d[\d.e+-]*", "#", text)


# ---------------------------------------------------------------- the notebooks as graded
def _source_dir(out: Path) -> Path | None:
    here = out / "nbgrader" / "source"
    return here if here.is_dir() else None


def _layout(assignment: str, notebook: str, source: Path | None) -> tuple[dict[str, str], dict[str, str]]:
    """(grade_id -> title, graded grade_id -> the answer cell it grades) from the source notebook: a test cell
    grades the nearest answer cell above it; a written answer is its own answer cell."""
    import nbformat

    from .feedback_exporter import SOURCE, part_titles

    titles = part_titles(assignment, notebook, source) or part_titles(assignment, notebook, SOURCE)
    path = (source or SOURCE) / assignment / f"{notebook}.ipynb"
    answers, last = {}, None
    if path.is_file():
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                last = meta["grade_id"]
            if meta.get("grade"):
                answers[meta["grade_id"]] = meta["grade_id"] if meta.get("solution") else last
    return titles, answers


def _cell_name(cell) -> str:
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade_id") and meta.get("solution"):
        return f"answer cell {meta['grade_id']}"
    first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
    return f"the cell starting `{first[:40]}`"


def _unanswered(cell) -> bool:
    if cell.cell_type == "markdown":
        return cell.source.strip() in UNANSWERED_TEXT
    return bool(STUB.search(cell.source))


def _inspect(out: Path, student: str, assignment: str, notebook: str) -> dict | None:
    """What the autograded notebook shows: answer cells left as released, cells that do not parse, cells stopped."""
    import nbformat

    path = out / "nbgrader" / "autograded" / student / assignment / f"{notebook}.ipynb"
    if not path.is_file():
        return None
    nb = nbformat.read(path, as_version=4)
    found = {"answers": {}, "unanswered": set(), "parse": [], "aborted": []}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            found["answers"][meta["grade_id"]] = cell
            if _unanswered(cell):
                found["unanswered"].add(meta["grade_id"])
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") != "error":
                continue
            if o.get("ename") in PARSE_ERRORS:
                evalue = re.sub(r" \(<ipython-input-[^>]*>, line (\d+)\)", r" (line \1)", o.get("evalue", ""))
                found["parse"].append(f"{_cell_name(cell)}: {o['ename']}: {evalue}")
            elif o.get("ename") == "CellAborted":
                found["aborted"].append(f"{_cell_name(cell)}: {o.get('evalue', '')}")
    return found


# ---------------------------------------------------------------- page parts
def _seconds_late(grade: dict) -> float:
    """Seconds between the due date and the submission time (both UTC, as nbgrader stores them); 0 if unknown."""
    from datetime import datetime

    if not grade.get("duedate") or not grade.get("timestamp"):
        return 0.0
    return (datetime.fromisoformat(grade["timestamp"]) - datetime.fromisoformat(grade["duedate"])).total_seconds()


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"


def _histogram(scores: list[float], max_score: float) -> str:
    """The grade distribution as inline SVG: a bar per score bin, its count above it, the bins' edges below."""
    import numpy as np

    import math

    bins = max(5, min(20, math.ceil(max_score)))  # a bin per point up to 20 points
    counts, edges = np.histogram(scores, bins=bins, range=(0, max_score or 1))
    width, height, left, bottom, top = 600, 270, 50, 40, 44
    plot_w, plot_h = width - left - 20, height - bottom - top
    peak = max(int(counts.max()), 1)
    bar_w = plot_w / bins
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="histogram of scores" font-family="sans-serif" font-size="12">',
             f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">Grade distribution</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>']
    for i, n in enumerate(counts):
        h = plot_h * int(n) / peak
        x = left + i * bar_w
        parts.append(f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                     f'fill="#1f77b4"><title>{edges[i]:.3g} to {edges[i + 1]:.3g}: {n} student(s)</title></rect>')
        if n:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 4:.1f}" '
                         f'text-anchor="middle">{n}</text>')
    for i in range(0, bins + 1, max(1, math.ceil(bins / 10))):
        x = left + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{edges[i]:.3g}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">score (of {max_score:g})'
                 '</text>')
    parts.append(f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + plot_h / 2})">students</text></svg>')
    return "".join(parts)


def _table(header, rows, cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{f' class={cls!r}' if cls else ''}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _by_item(rows) -> str:
    """"label 80%" per scored item of a part, from parts.csv's points_by_item ("label e/p; ...")."""
    earned, order = Counter(), []
    for row in rows:
        for entry in filter(None, (row.get("points_by_item") or "").split("; ")):
            label, _, frac = entry.rpartition(" ")
            got, _, points = frac.partition("/")
            if label not in order:
                order.append(label)
            earned[label] += float(got) >= float(points or 0) > 0
    if not order:
        return "—"
    return "<br>".join(f"{html.escape(label)}: {100 * earned[label] / len(rows):.0f}%" for label in order)


def _title_html(title: str, gid: str) -> str:
    from .feedback_exporter import title_html

    plain = re.sub(r"\$\\?([^$]*)\$", r"\1", title)  # no MathJax here
    shown = title_html(plain)
    return shown if title == gid else f'{shown} <span class="id">{html.escape(gid)}</span>'


def _where(scenarios: Counter, shown: int = 5) -> str:
    """"p = 1 (2), p = 0 (1)": the scenarios a row was seen in, most frequent first."""
    top = [f"{html.escape(label)} ({n})" for label, n in scenarios.most_common(shown)]
    more = len(scenarios) - shown
    return ", ".join(top) + (f", and {more} more" if more > 0 else "")


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "—"


# ---------------------------------------------------------------- the report
def build(out: Path) -> Path:
    out = Path(out)
    with open(out / "grades.csv", newline="") as fh:
        grades = list(csv.DictReader(fh))
    with open(out / "parts.csv", newline="") as fh:
        parts = list(csv.DictReader(fh))
    run = json.loads((out / "run.json").read_text()) if (out / "run.json").is_file() else {}
    assignment = grades[0]["assignment"] if grades else run.get("assignment", "?")
    max_score = float(grades[0]["max_score"]) if grades else 0.0
    scores = [float(g["score"]) for g in grades]
    ungraded = set(run.get("problems", {}))
    source = _source_dir(out)

    # The pages students get load MathJax from feedback/mathjax (see feedback_exporter.install_mathjax).
    if (out / "feedback").is_dir():
        from .feedback_exporter import install_mathjax

        install_mathjax(out / "feedback")

    notebooks = list(dict.fromkeys(r["notebook"] for r in parts))
    layout = {nb: _layout(assignment, nb, source) for nb in notebooks}
    students = sorted({r["student_id"] for r in parts} | {g["student_id"] for g in grades})
    seen = {(s, nb): _inspect(out, s, assignment, nb) for s in students if s not in ungraded for nb in notebooks}

    def unanswered(row) -> bool:
        found = seen.get((row["student_id"], row["notebook"]))
        answer = layout[row["notebook"]][1].get(row["part"])
        if found is not None and answer:
            return answer in found["unanswered"]
        return "not implemented yet" in row["message"] and "Passes with: none" in row["message"] \
            or row["message"].endswith("is not implemented yet") or row["message"] == "written answer: not answered"

    # ------------------------------------------------ parts
    by_part = defaultdict(list)
    for row in parts:
        if row["student_id"] not in ungraded:
            by_part[(row["notebook"], row["part"])].append(row)
    order = {(nb, gid): (i, j) for i, nb in enumerate(notebooks) for j, gid in enumerate(layout[nb][0])}
    summary, sections = [], []
    for key in sorted(by_part, key=lambda k: order.get(k, (len(notebooks), 0)) + k):
        nb, gid = key
        rows = by_part[key]
        title = layout[nb][0].get(gid, gid)
        shown = _title_html(title, gid)
        pending = [r for r in rows if r["score"] == ""]      # written answers a human has not graded yet
        graded = [r for r in rows if r["score"] != ""]
        blank = [r for r in graded if unanswered(r)]
        answered = [r for r in graded if r not in blank]
        points = float(rows[0]["max_score"])
        full = [r for r in graded if float(r["score"]) >= points]
        mean = sum(float(r["score"]) for r in graded) / len(graded) if graded else None
        summary.append([f'<a href="#part-{html.escape(gid)}">{shown}</a>', len(graded),
                        f"{mean:.2f} / {points:g}" if mean is not None else "—",
                        _pct(len(full), len(graded)), len(blank), len(pending), _by_item(graded)])

        written = all(r["message"].startswith("written answer") for r in rows)
        counts, details = Counter(), defaultdict(Counter)
        names = {}
        for r in answered:
            if float(r["score"]) >= points or written:
                continue
            found = defaultdict(set)  # row -> the scenarios that show it, once per student
            for text, where in mistakes_of(r["message"]):
                k = _key(text)  # the same mistake with other numbers is the same row
                names.setdefault(k, text)
                found[k].update([where] if where else [])
            for k, wheres in found.items():
                counts[k] += 1
                details[k].update(wheres)
        lines = [f"{len(graded)} graded", f"mean {mean:.2f} of {points:g}" if mean is not None else "",
                 f"full marks {_pct(len(full), len(graded))}" if graded else "",
                 f"{len(blank)} not answered" if blank else "",
                 f"{len(pending)} waiting for manual grading" if pending else ""]
        section = [f'<h3 id="part-{html.escape(gid)}">{shown}</h3>',
                   f'<p>{" · ".join(x for x in lines if x)}</p>']
        if written:
            section.append("<p>A written answer: graded by hand in formgrader.</p>")
        elif counts:
            mistake_rows = [[html.escape(names[k]), n, _pct(n, len(graded)), _where(details[k])]
                            for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], names[kv[0]]))]
            section.append(_table(["what went wrong", "students", "of graded", "in the scenarios (students)"],
                                  mistake_rows, "mistakes"))
        elif answered:
            section.append("<p>Every answer given earned full marks.</p>")
        sections.append("\n".join(section))

    # ------------------------------------------------ needs attention
    attention = []  # (order, student, what, details)

    def flag(rank: int, student: str, what: str, details: str) -> None:
        attention.append((rank, student, what, details))

    for student, problem in sorted(run.get("problems", {}).items()):
        flag(0, student, "not graded", problem)
    for student in students:
        if student in ungraded:
            continue
        found = [seen.get((student, nb)) for nb in notebooks]
        if found and all(f is not None and f["answers"] and set(f["answers"]) == f["unanswered"] for f in found):
            flag(1, student, "blank submission", "nothing answered: every answer cell is as it was released")
        elif found and all(f is None for f in found):  # no autograded notebook to look at: the messages
            code = [r for r in parts if r["student_id"] == student and not r["message"].startswith("written answer")]
            if code and all(unanswered(r) for r in code):
                flag(1, student, "blank submission", "every part is not implemented yet")
        for f in found:
            for text in (f or {}).get("parse", []):
                flag(2, student, "does not parse", text)
            for text in (f or {}).get("aborted", []):
                flag(4, student, "cell timed out or crashed", text)
    for student, notes in sorted(run.get("notes", {}).items()):
        for note in notes:
            if TAMPERED.search(note):
                flag(3, student, "tampered", note)
            elif TIME_UNKNOWN.search(note):
                flag(5, student, "late? time unknown", note)
            elif "marked LATE by the LMS" in note:
                flag(5, student, "late (LMS mark)", note)
            else:
                flag(6, student, "note", note)
    for row in parts:
        if row["student_id"] in ungraded or PARSE_FAILURE.search(row["message"]):
            continue
        if TROUBLE.search(row["message"]):
            title = layout.get(row["notebook"], ({}, {}))[0].get(row["part"], row["part"])
            title_plain = re.sub(r"\$\\?([^$]*)\$", r"\1", title).replace("`", "")
            flag(4, row["student_id"], "part timed out or crashed", f"{title_plain}: {_body(row['message'])}")
    extensions = run.get("extensions", {})
    for g in grades:
        own = extensions.get(g["student_id"])
        if own:  # their own due date: lateness counts from it
            g = {**g, "duedate": own}
        if (late := _seconds_late(g)) > 0:  # flagged whatever the policy, even with no penalty
            penalty = float(g.get("late_submission_penalty") or 0)
            due = f"their extended due date {g['duedate']}" if own else f"the due date {g['duedate']}"
            flag(5, g["student_id"], "late", f"submitted {g['timestamp']}, {_duration(late)} after {due}, "
                                             f"penalty {penalty:g}")
    for student, own in sorted(extensions.items()):
        flag(8, student, "extension", f"due {own} UTC")
    waiting = sorted({r["student_id"] for r in parts if r["score"] == "" and "waiting" in r["message"]})
    if waiting:
        flag(7, ", ".join(waiting), "manual grading pending",
             f"{len(waiting)} submission(s) with written answers to grade in formgrader")
    merged = {}  # the same finding for several students is one row
    for rank, student, what, details in sorted(attention, key=lambda a: (a[0], a[1])):
        merged.setdefault((rank, what, details), []).append(student)
    attention_rows = [[html.escape(what), html.escape(", ".join(students)),
                       f'<span class="detail">{html.escape(details)}</span>']
                      for (rank, what, details), students in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[1]))]

    mean = sum(scores) / len(scores) if scores else 0.0
    median = sorted(scores)[len(scores) // 2] if scores else 0.0
    svg = _histogram(scores, max_score) if scores else ""
    graded_count = len([s for s in {g["student_id"] for g in grades} if s not in ungraded])
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Report: {html.escape(assignment)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: .6em 0 1.2em; }} th, td {{ border: 1px solid #ccc; padding: .3em .6em;
vertical-align: top; text-align: left; }} th {{ background: #f3f3f3; }} .num {{ font-size: 1.3em; }}
td {{ overflow-wrap: anywhere; }} .detail {{ white-space: pre-wrap; }}
.id {{ color: #777; font-size: .8em; font-family: monospace; }}
table.mistakes {{ width: 100%; }} table.mistakes td:first-child {{ width: 40%; }}
table.mistakes td:nth-child(2), table.mistakes td:nth-child(3) {{ text-align: right; white-space: nowrap; }}
h3 {{ margin-top: 1.5em; }}
table.parts td:nth-child(n+2) {{ white-space: nowrap; }}
</style></head><body>
<h1>Assignment {html.escape(assignment)}</h1>
<p class="num">{len(grades)} students · mean {mean:.2f} · median {median:.2f} · maximum {max_score:g}</p>
<p>{graded_count} graded, {len(ungraded)} could not be graded; {len(attention_rows)} item(s) under
<a href="#attention">Needs attention</a>.</p>
<h2>Grade distribution</h2>
{svg or '<p>No grades.</p>'}
<h2>Item analysis</h2>
<p>For each part, among the graded submissions: the mean score, the share with full marks, how many did not
answer it (its answer cell as released), how many written answers still wait for a human (not counted in the
mean), and the share earning each scored item (partial credit). Submissions that could not be graded are not
counted here; they are listed under "Needs attention".</p>
{_table(["part", "graded", "mean", "full marks", "not answered", "pending", "earned by item"], summary, "parts")}
<h2>What went wrong, by part</h2>
<p>One row per mistake: the one the feedback named ("Likely mistake"), or, where it named none, what differed in
a failing scenario; with the number of students whose answer showed it and the scenarios it showed in.
Unanswered parts are not counted as mistakes.</p>
{"".join(sections) or "<p>No parts.</p>"}
<h2 id="attention">Needs attention</h2>
{_table(["what", "student", "details"], attention_rows, "attention") if attention_rows else "<p>Nothing.</p>"}
</body></html>
"""
    path = out / "report.html"
    path.write_text(page)
    return path
