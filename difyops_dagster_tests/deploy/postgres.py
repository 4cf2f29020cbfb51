"""A throwaway PostgreSQL server on 127.0.0.1 (Debian's postgresql package), for the production instance test."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from dify_standin.processes import free_port
from difyops_dagster_tests.temp_folder import SYSTEM_TEMP


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL binaries not found: install Debian's postgresql package (scripts/setup does)")
    return found[-1]


class PostgresServer:
    """initdb + pg_ctl as the `postgres` user (initdb refuses root), trust auth, fsync off, a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's folders: the postgres user cannot enter them (see temp_folder.py); removed by stop().
        self.root = Path(tempfile.mkdtemp(prefix="difyops-pg-", dir=SYSTEM_TEMP))
        self.data = self.root / "data"
        self.user = "dagster"
        self.db = "dagster"

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o755)
        self._as_postgres(
            _bin("initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._as_postgres(
            _bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start"
        )
        subprocess.run(
            [_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, self.db],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return self

    def stop(self) -> None:
        try:
            self._as_postgres(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
