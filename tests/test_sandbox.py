"""The bubblewrap sandbox on its own: what student code can and cannot do inside it."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO, run_cli
from autograder.sandbox import Limits, Sandbox, SandboxUnavailable, check_available


def run(code, tmp_path, **limits):
    return Sandbox(limits=Limits(**{"wall_seconds": 60, **limits})).run([sys.executable, "-c", code],
                                                                        tmp_path / "scratch")


def test_student_code_runs_with_torch_and_coursekit(tmp_path):
    res = run("import torch, coursekit.checks, os; print(os.getuid() != 0, torch.__version__)", tmp_path)
    assert res.returncode == 0 and res.stdout.startswith("True 2.13.0"), res


def test_instructor_files_are_not_there(tmp_path):
    res = run(f"import os; print(sorted(os.listdir({str(REPO)!r})))", tmp_path)
    assert res.stdout.strip() == "['.venv', 'coursekit']", res
    res = run(f"open({str(REPO / 'solutions' / 'regularization.py')!r})", tmp_path)
    assert res.returncode != 0 and "FileNotFoundError" in res.stderr


def test_writes_only_in_scratch(tmp_path):
    res = run("open('/work/scratch/ok', 'w').write('x'); open('/usr/pwned', 'w')", tmp_path)
    assert (tmp_path / "scratch" / "ok").read_text() == "x"
    assert res.returncode != 0 and ("Read-only" in res.stderr or "Permission" in res.stderr), res.stderr


def test_no_network(tmp_path):
    res = run("import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)", tmp_path)
    assert res.returncode != 0 and "OSError" in res.stderr or "unreachable" in res.stderr, res.stderr


def test_memory_is_bounded(tmp_path):
    res = run("x = bytearray(6 << 30)", tmp_path, memory_bytes=2 << 30)
    assert "MemoryError" in res.stderr


def test_processes_are_bounded(tmp_path):
    code = ("import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
            "            time.sleep(5); os._exit(0)\n        n += 1\nexcept OSError:\n    print('stopped at', n)")
    res = run(code, tmp_path, processes=20)
    assert res.stdout.startswith("stopped at") and int(res.stdout.split()[-1]) < 20, res


def test_file_size_is_bounded(tmp_path):
    res = run("open('/work/scratch/big', 'wb').write(b'x' * (8 << 20))", tmp_path, file_bytes=1 << 20)
    assert res.returncode != 0 and (res.killed_by == "SIGXFSZ" or "File too large" in res.stderr), res


def test_cpu_time_is_bounded(tmp_path):
    res = run("while True: pass", tmp_path, cpu_seconds=2)
    assert res.killed_by in ("SIGXCPU", "SIGKILL"), res


def test_wall_time_is_bounded(tmp_path):
    res = run("import time; time.sleep(60)", tmp_path, wall_seconds=2)
    assert res.timed_out and res.returncode != 0


def test_grading_refuses_without_a_sandbox_unless_told(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        check_available()
    (tmp_path / "sub" / "s1" / "ch02_weight_decay").mkdir(parents=True)
    env = {"PATH": "/nonexistent"}
    proc = run_cli("grade", "ch02_weight_decay", tmp_path / "sub", "--out", tmp_path / "out", check=False, env=env)
    assert proc.returncode == 2 and "--no-sandbox" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("grade", "ch02_weight_decay", tmp_path / "sub", "--out", tmp_path / "out", "--no-sandbox",
                   "--no-progress", check=False, env=env)
    assert "WARNING: --no-sandbox" in proc.stderr


def test_grading_runs_are_marked_as_plain_nbgrader_marks_them(tmp_path):
    # nbgrader autograde sets NBGRADER_EXECUTION=autograde; a notebook may shorten long runs on it (ch12's study).
    res = run("import os; print(os.environ.get('NBGRADER_EXECUTION'))", tmp_path)
    assert res.stdout.strip() == "autograde", res
