"""Start and stop the local stack as real processes on 127.0.0.1: the Dify stand-in and an S3 server.

Used by the tests' fixtures, the benchmarks and the demo command; never by the product. Each server runs in
its own process group so that stopping it also stops anything it spawned, and a server that does not answer
its health URL in time is killed and reported with the tail of its output.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from dify_standin.admin import StandinAdmin


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
        dify_version: str = "1.13",
        dataset_key: str = "dataset-standin-key",
        indexing_seconds: float = 0.0,
        extra_args: tuple[str, ...] = (),
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/v1"
        self.dataset_key = dataset_key
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
