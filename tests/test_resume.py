"""What makes a rerun regrade: the assignment's own rules, not another chapter's hidden tests."""

from __future__ import annotations

import shutil

from autograder import resume
from autograder.course import REPO


def test_rules_change_with_this_assignments_tests_and_shared_code_only(tmp_path, monkeypatch):
    for folder in ("autograder/hidden", "autograder/source/ch02_weight_decay", "coursekit/checks", "solutions"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    for name in ("verdicts.py", "harness.py"):
        shutil.copyfile(REPO / "autograder" / name, tmp_path / "autograder" / name)
    monkeypatch.setattr(resume, "REPO", tmp_path)
    monkeypatch.setattr(resume, "SOURCE", tmp_path / "autograder" / "source")
    rules = lambda: resume.rules_fingerprint("ch02_weight_decay", None, "none", 60, True)  # noqa: E731
    before = rules()
    (tmp_path / "autograder/hidden/ch07_sgd.py").write_text("# another chapter's fix\n")
    assert rules() == before
    for changed in ("autograder/hidden/ch02_weight_decay.py", "autograder/hidden/common.py",
                    "coursekit/checks/regularization.py", "solutions/regularization.py", "autograder/verdicts.py"):
        path = tmp_path / changed
        path.write_text(path.read_text() + "\n# a fix\n")
        assert rules() != before, changed
        before = rules()
    assert resume.rules_fingerprint("ch02_weight_decay", "2026-11-20", "none", 60, True) != before
