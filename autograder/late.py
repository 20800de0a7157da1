"""The late-work policy, as an nbgrader LateSubmissionPlugin.

nbgrader takes the due date from the gradebook (``--due``) and each
submission's time from its ``timestamp.txt`` (written by ``nbgrader
collect`` / ``zip_collect``), and asks this plugin for the penalty of every
late notebook. Policies (``--late-policy``):

- ``none``: late work is flagged in the report, nothing is deducted (nbgrader's default);
- ``zero``: late work scores 0;
- ``per-day:F``: each started day late costs the fraction F of the notebook's score, never below 0
  (``per-day:0.1`` = 10% per day, so work more than 9 days late scores 0).
"""

from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Unicode, validate


class LatePolicy(LateSubmissionPlugin):
    policy = Unicode("none", help="none | zero | per-day:F").tag(config=True)

    @validate("policy")
    def _check(self, proposal):
        parse_policy(proposal["value"])
        return proposal["value"]

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        kind, fraction = parse_policy(self.policy)
        if kind == "none" or total_seconds_late <= 0:
            return 0.0
        if kind == "zero":
            return score
        days = math.ceil(total_seconds_late / 86400)
        return min(score, score * fraction * days)


def parse_policy(text: str) -> tuple[str, float]:
    if text in ("none", "zero"):
        return text, 0.0
    if text.startswith("per-day:"):
        try:
            fraction = float(text.split(":", 1)[1])
        except ValueError:
            fraction = -1
        if 0 < fraction <= 1:
            return "per-day", fraction
    raise ValueError(f"late policy must be none, zero or per-day:F with 0 < F <= 1, got {text!r}")
