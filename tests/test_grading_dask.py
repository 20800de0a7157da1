"""Grading on Dask distributed: a LocalCluster, and a real scheduler with two worker processes
started separately on loopback, as an instructor would on a cluster. Same grades as sequential."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import graders, run_cli
from submissions import solution_and_buggy

A = "ch02_weight_decay"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return solution_and_buggy(tmp_path_factory.mktemp("daskbatch") / "submitted", A, slice(5, 9))


@pytest.fixture(scope="module")
def sequential(batch, tmp_path_factory):
    out = tmp_path_factory.mktemp("dask-seq")
    run_cli("grade", A, batch, "--out", out, "--workers", "1", "--no-progress")
    return (out / "parts.csv").read_text()


def test_local_dask_cluster(batch, sequential, tmp_path):
    run_cli("grade", A, batch, "--out", tmp_path, "--dask", "--workers", "2", "--no-progress")
    assert (tmp_path / "parts.csv").read_text() == sequential


def test_separate_scheduler_and_workers_on_loopback(batch, sequential, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nworkers", "2", "--nthreads", "1",
                                       "--no-dashboard"], start_new_session=True,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from dask.distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            assert len(client.scheduler_info()["workers"]) == 2
        run_cli("grade", A, batch, "--out", tmp_path, "--dask", address, "--no-progress")
        assert (tmp_path / "parts.csv").read_text() == sequential
        assert len(graders(tmp_path, A)) == 2  # both worker processes took submissions
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
