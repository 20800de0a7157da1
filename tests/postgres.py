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


class Server:
    """A PostgreSQL server in ``data``, listening on 127.0.0.1:``port``; ``url`` is ``postgresql://postgres@HOST:PORT``."""

    def __init__(self, data: Path, sock: Path, port: int):
        self.data, self.sock, self.port = data, sock, port
        self.url = f"postgresql://postgres@127.0.0.1:{port}"

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", _bin("pg_ctl"), "-D", str(self.data), *args],
                       check=check, capture_output=True)

    def start(self) -> None:
        self._pg_ctl("-w", "-l", str(self.data / "server.log"), "-o",
                     f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1", "start")

    def stop(self, check: bool = True) -> None:
        """Stop at once, as a crash would: open connections are cut."""
        self._pg_ctl("-m", "immediate", "stop", check=check)


@contextmanager
def postgres_server(base: Path):
    """Yield a fresh, started :class:`Server` with its files under ``base``; stop it after."""
    data, sock = base / "pgdata", base / "pgsock"
    for d in (data, sock):
        d.mkdir(parents=True)
        shutil.chown(d, "postgres", "postgres")
    base.chmod(0o755)
    subprocess.run(["runuser", "-u", "postgres", "--", _bin("initdb"), "-D", str(data), "--auth=trust",
                    "-U", "postgres"], check=True, capture_output=True)
    server = Server(data, sock, _free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop(check=False)


def create_database(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{url}/{name}"
