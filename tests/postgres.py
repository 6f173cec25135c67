"""A real PostgreSQL server for the tests, in a temporary folder on a loopback port (initdb, pg_ctl).

As root (CI containers), the server runs as the ``postgres`` system user, which the Debian package creates;
``make test`` installs PostgreSQL with apt where it is missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: `make test` installs postgresql-15 with apt")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_root = os.geteuid() == 0
        root.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            shutil.chown(root, "postgres", "postgres")
            os.chmod(root, 0o755)
            parent = root.parent
            while parent != parent.parent:  # the postgres user must reach the folder
                os.chmod(parent, os.stat(parent).st_mode | 0o111)
                parent = parent.parent
        self._run([_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        if self._as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        done = self._run(
            [_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "start"],
            check=False,
        )
        if done.returncode != 0:
            log = (self.root / "log").read_text()[-2000:]
            raise RuntimeError(f"pg_ctl start failed ({done.returncode}): {done.stdout} {done.stderr} | log: {log}")
        deadline = time.time() + 30
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start: " + (self.root / "log").read_text()[-2000:])

    def stop(self) -> None:
        """Stop the server and wait until it is down; on a loaded machine a fast shutdown may outlast pg_ctl's
        wait, and then an immediate one follows (a test that stops the server must not find it still up)."""
        said = []
        for mode in ("fast", "immediate", "immediate"):
            done = self._run([_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"], check=False)
            said.append(f"{mode}: {done.returncode} {done.stdout.strip()} {done.stderr.strip()}")
            if done.returncode == 0 or "not running" in (done.stderr + done.stdout).lower():
                return
            time.sleep(1)
        raise RuntimeError("PostgreSQL did not stop: " + " | ".join(said))


def fresh_database(server: PostgresServer, prefix: str = "t") -> str:
    """A new, empty database on ``server``: its URL."""
    import psycopg

    name = f"{prefix}{time.time_ns()}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url.rsplit("/", 1)[0] + "/" + name
