"""The instructor's report: one self-contained HTML page per graded assignment.

It reads what `grade` wrote (grades.csv, parts.csv, run.json) and shows
- the grade distribution (a histogram, embedded as a PNG);
- item analysis: for every graded part, how many failed it, how many answers
  wait for manual grading, and which named mistakes were most common (among
  graded submissions only: ungradable ones are listed under attention);
- the submissions that need attention: not gradable, odd (notes), parts that
  timed out or crashed, written answers waiting for a human, late work.
Everything is inline, so the file can be mailed or opened offline.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

TROUBLE = re.compile(r"timed out|ran too long|killed by|ended the process|MemoryError|could not be tested", re.I)


def _mistake_of(message: str) -> str:
    """Group messages by the mistake they name, not by the scenario that exposed it."""
    if "Likely cause:" in message:
        return message.split("Likely cause:", 1)[1].strip().rstrip(".")
    message = re.sub(r"\([^)]*\)", "", message)          # scenario labels, shapes, sizes
    message = re.sub(r"from step \d+ on", "from some step on", message)
    return message.split(":", 1)[1].strip() if ":" in message else message.strip()


def _seconds_late(grade: dict) -> float:
    """Seconds between the due date and the submission time (both UTC, as nbgrader stores them); 0 if unknown."""
    from datetime import datetime

    if not grade["duedate"] or not grade["timestamp"]:
        return 0.0
    return (datetime.fromisoformat(grade["timestamp"]) - datetime.fromisoformat(grade["duedate"])).total_seconds()


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"


def _histogram(scores: list[float], max_score: float) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    bins = max(5, min(20, int(max_score) + 1))
    ax.hist(scores, bins=bins, range=(0, max_score), color="tab:blue", edgecolor="white")
    ax.set_xlabel(f"score (of {max_score:g})")
    ax.set_ylabel("students")
    ax.set_title("Grade distribution")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _by_item(rows) -> str:
    """"label 80% of students" per scored item of a part, from parts.csv's points_by_item ("label e/p; ...")."""
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

    # Submissions that could not be graded are listed under attention, not counted as failing every part.
    ungraded = set(run.get("problems", {}))
    by_part = defaultdict(list)
    for row in parts:
        if row["student_id"] not in ungraded:
            by_part[(row["notebook"], row["part"])].append(row)
    items = []
    for (nb, part), rows in sorted(by_part.items()):
        pending = [r for r in rows if r["score"] == ""]      # written answers a human has not graded yet
        graded = [r for r in rows if r["score"] != ""]
        waiting = f"{len(pending)} waiting for manual grading" if pending else ""
        if not graded:
            items.append([html.escape(part), 0, "—", "—", "—", len(pending), waiting or "—"])
            continue
        failed = [r for r in graded if float(r["score"]) < float(r["max_score"])]
        common = Counter(_mistake_of(r["message"]) for r in failed if r["message"])
        top = "<br>".join(f"{n}× {html.escape(m)}" for m, n in common.most_common(5)) or "—"
        mean = sum(float(r["score"]) for r in graded) / len(graded)
        items.append([html.escape(part), len(graded), f"{100 * len(failed) / len(graded):.0f}%",
                      f"{mean:.2f} / {float(rows[0]['max_score']):g}", _by_item(graded), len(pending), top])

    attention = []
    for student, problem in sorted(run.get("problems", {}).items()):
        attention.append([html.escape(student), "not graded", html.escape(problem)])
    for student, notes in sorted(run.get("notes", {}).items()):
        for note in notes:
            attention.append([html.escape(student), "note", html.escape(note)])
    for row in parts:
        if TROUBLE.search(row["message"]):
            attention.append([html.escape(row["student_id"]), f"{html.escape(row['part'])}: crash or timeout",
                              html.escape(row["message"])])
    pending = sorted({r["student_id"] for r in parts if r["score"] == "" and "waiting" in r["message"]})
    if pending:
        attention.append([html.escape(", ".join(pending)), "manual grading pending",
                          f"{len(pending)} written answer(s) to grade in formgrader"])
    for g in grades:
        if (late := _seconds_late(g)) > 0:  # flagged whatever the policy, even with no penalty
            penalty = float(g["late_submission_penalty"] or 0)
            attention.append([html.escape(g["student_id"]), "late",
                              f"submitted {html.escape(g['timestamp'])}, {_duration(late)} after the due date "
                              f"{html.escape(g['duedate'])}, penalty {penalty:g}"])

    mean = sum(scores) / len(scores) if scores else 0.0
    median = sorted(scores)[len(scores) // 2] if scores else 0.0
    png = _histogram(scores, max_score) if scores else ""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Report: {html.escape(assignment)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} th, td {{ border: 1px solid #ccc; padding: .3em .6em;
vertical-align: top; text-align: left; }} th {{ background: #f3f3f3; }} .num {{ font-size: 1.3em; }}
</style></head><body>
<h1>Assignment {html.escape(assignment)}</h1>
<p class="num">{len(grades)} students · mean {mean:.2f} · median {median:.2f} · maximum {max_score:g}</p>
<h2>Grade distribution</h2>
{f'<img alt="histogram of scores" src="data:image/png;base64,{png}">' if png else '<p>No grades.</p>'}
<h2>Item analysis</h2>
<p>For each part: how many students were graded on it and how many of them failed it, how many answers still wait
for a human, the share of students who earned each of its scored items (partial credit), and the mistakes
their feedback named most often. Submissions that could not be graded are not counted
here; they are listed under "Needs attention".</p>
{_table(["part", "graded", "failed", "mean", "earned by item", "pending", "most common mistakes"], items)}
<h2>Needs attention</h2>
{_table(["student", "what", "details"], attention) if attention else "<p>Nothing.</p>"}
</body></html>
"""
    path = out / "report.html"
    path.write_text(page)
    return path
