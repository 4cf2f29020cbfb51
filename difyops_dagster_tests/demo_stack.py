"""The README demo's local stack, shared by `scripts/demo` and the browser tests so both run the same thing.

moto S3 holding `examples/sample-docs/` under `s3://difyops-demo/docs/`, the Dify stand-in with `--demo` (the
datasets and workflow app `config/demo.yaml` names), a `DAGSTER_HOME` with the repository's `dagster.yaml`, and the
environment that points `config/demo.yaml` at them. The caller adds what it serves on top (`dg dev`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dify_standin.demo_seed import DEMO_APP_KEY
from dify_standin.processes import MotoS3Process, StandinProcess

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config" / "demo.yaml"
SAMPLE_DOCS = ROOT / "examples" / "sample-docs"
BUCKET = "difyops-demo"


@dataclass(frozen=True)
class DemoStack:
    standin: StandinProcess
    s3: MotoS3Process
    home: Path
    documents: int  # sample files uploaded

    @property
    def env(self) -> dict[str, str]:
        """What `config/demo.yaml` reads (its `{env: NAME}` values), plus `DAGSTER_HOME`."""
        return {
            "DIFYOPS_CONFIG": str(DEMO_CONFIG),
            "DIFY_BASE_URL": self.standin.api_url,
            "DIFY_DATASET_API_KEY": self.standin.dataset_key,
            "DIFY_DEMO_APP_KEY": DEMO_APP_KEY,
            "S3_ENDPOINT_URL": self.s3.endpoint_url,
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "AWS_DEFAULT_REGION": "us-east-1",
            "DAGSTER_HOME": str(self.home),
        }


def upload_sample_docs(s3: MotoS3Process) -> int:
    client = s3.client()
    client.create_bucket(Bucket=BUCKET)
    count = 0
    for path in sorted(SAMPLE_DOCS.rglob("*")):
        if path.is_file():
            client.put_object(
                Bucket=BUCKET, Key=f"docs/{path.relative_to(SAMPLE_DOCS).as_posix()}", Body=path.read_bytes()
            )
            count += 1
    return count


@contextmanager
def running_demo_stack(
    home: Path,
    *,
    log_dir: Path,
    indexing_seconds: float,
    dify_port: int | None = None,
    s3_port: int | None = None,
) -> Iterator[DemoStack]:
    """S3 and the stand-in on 127.0.0.1 (free ports unless given), the samples uploaded; both stopped on exit."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    standin = StandinProcess(
        dify_port,
        indexing_seconds=indexing_seconds,
        extra_args=("--demo", "--etl-type", "Unstructured"),
        log_dir=log_dir,
    )
    with MotoS3Process(s3_port, log_dir=log_dir) as s3, standin:
        yield DemoStack(standin, s3, home, upload_sample_docs(s3))
