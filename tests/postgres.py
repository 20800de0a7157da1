"""A real PostgreSQL server on loopback, started for the tests (Debian's `postgresql` package)."""

from __future__ import annotations

import glob
import shutil
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (make test installs Debian's postgresql)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server(base: Path):
    """Yield a URL prefix ``postgresql://postgres@127.0.0.1:PORT`` of a fresh server; stop it after."""
    data, sock = base / "pgdata", base / "pgsock"
    for d in (data, sock):
        d.mkdir(parents=True)
        shutil.chown(d, "postgres", "postgres")
    base.chmod(0o755)
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_pg + [_bin("initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"],
                   check=True, capture_output=True)
    port = _free_port()
    subprocess.run(as_pg + [_bin("pg_ctl"), "-D", str(data), "-w", "-l", str(data / "server.log"), "-o",
                            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(as_pg + [_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)


def create_database(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{url}/{name}"
