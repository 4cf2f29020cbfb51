"""The README's demo: the local stack with sample data, the main job once, then the Dagster UI.

Starts moto's S3 server on 127.0.0.1:9000, the Dify stand-in (`--demo`: datasets kb-blue/kb-green/kb-videos, a
workflow app) on 127.0.0.1:5001 and the sample video site (three videos: manual subtitles, automatic captions,
none) on 127.0.0.1:8765, uploads examples/sample-docs to s3://difyops-demo/docs/, runs `sync_job` into
$DAGSTER_HOME (var/dagster_home, SQLite), then serves `dagster dev` on 127.0.0.1:3000 until Ctrl-C, where the
daemon's video sensor finds the three videos. `--no-ui` stops after the sync (used by the test that keeps this
command honest).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from dify_standin.demo_seed import DEMO_APP_KEY, DEMO_CONSOLE_PASSWORD
from dify_standin.processes import MotoS3Process, StandinProcess

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "difyops-demo"
VIDEO_SITE_PORT = 8765  # config/demo.yaml's video source


def demo_env(standin: StandinProcess, s3: MotoS3Process, home: Path) -> dict[str, str]:
    return {
        "DIFYOPS_CONFIG": str(ROOT / "config" / "demo.yaml"),
        "DIFY_BASE_URL": standin.api_url,
        "DIFY_DATASET_API_KEY": standin.dataset_key,
        "DIFY_DEMO_APP_KEY": DEMO_APP_KEY,
        "DIFY_CONSOLE_URL": standin.url,
        "DIFY_CONSOLE_PASSWORD": DEMO_CONSOLE_PASSWORD,
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DAGSTER_HOME": str(home),
    }


def upload_samples(s3: MotoS3Process) -> int:
    client = s3.client()
    client.create_bucket(Bucket=BUCKET)
    count = 0
    for path in sorted((ROOT / "examples" / "sample-docs").rglob("*")):
        if path.is_file():
            key = "docs/" + path.relative_to(ROOT / "examples" / "sample-docs").as_posix()
            client.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
            count += 1
    return count


@contextmanager
def sample_video_site(python: str, env: dict[str, str]):
    """The tests' sample video site as its own process, for the demo's video source (feed.xml)."""
    site = subprocess.Popen(
        [python, "-m", "difyops_dagster_tests.video.sample_site", "--port", str(VIDEO_SITE_PORT)],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and site.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{VIDEO_SITE_PORT}/feed.xml", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            print("demo: the sample video site did not start; the video sensor will report its source", flush=True)
        yield f"http://127.0.0.1:{VIDEO_SITE_PORT}/feed.xml"
    finally:
        os.killpg(site.pid, signal.SIGTERM)
        site.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-ui", action="store_true", help="stop after the sync instead of serving the UI")
    parser.add_argument("--dify-port", type=int, default=int(os.environ.get("DEMO_DIFY_PORT", 5001)))
    parser.add_argument("--s3-port", type=int, default=int(os.environ.get("DEMO_S3_PORT", 9000)))
    parser.add_argument("--ui-port", type=int, default=int(os.environ.get("DEMO_UI_PORT", 3000)))
    parser.add_argument("--home", default=os.environ.get("DEMO_DAGSTER_HOME", str(ROOT / "var" / "dagster_home")))
    args = parser.parse_args()

    home = Path(args.home)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    bin_dir = Path(sys.executable).parent
    standin = StandinProcess(args.dify_port, indexing_seconds=1.0, extra_args=("--demo", "--etl-type", "Unstructured"))
    s3 = MotoS3Process(args.s3_port)
    with s3, standin:
        print(
            f"demo: uploaded {upload_samples(s3)} sample files to s3://{BUCKET}/docs/ at {s3.endpoint_url}", flush=True
        )
        print(f"demo: Dify stand-in at {standin.api_url}", flush=True)
        env = {**os.environ, **demo_env(standin, s3, home)}
        if args.no_ui:
            return run_sync(bin_dir, env)
        with sample_video_site(sys.executable, env) as feed:
            print(f"demo: sample videos at {feed}", flush=True)
            synced = run_sync(bin_dir, env)
            return serve_ui(bin_dir, env, args.ui_port) or synced


def run_sync(bin_dir: Path, env: dict[str, str]) -> int:
    job = [str(bin_dir / "dagster"), "job", "execute", "-m", "difyops_dagster.definitions", "-j", "sync_job"]
    print("demo: running sync_job (blue/green sync of the sample bucket) ...", flush=True)
    synced = subprocess.run(job, env=env, cwd=ROOT).returncode
    print(f"demo: sync_job {'succeeded' if synced == 0 else 'FAILED'}", flush=True)
    return synced


def serve_ui(bin_dir: Path, env: dict[str, str], port: int) -> int:
    ui = [str(bin_dir / "dagster"), "dev", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)]
    print(f"demo: Dagster UI on http://127.0.0.1:{port} (Ctrl-C stops everything)", flush=True)
    # dagster dev maps SIGTERM to its SIGINT handler: give it default handlers and its own process group.
    dev = subprocess.Popen(ui, env=env, cwd=ROOT, start_new_session=True)
    try:
        return dev.wait()
    except KeyboardInterrupt:
        os.killpg(dev.pid, signal.SIGTERM)
        try:
            dev.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(dev.pid, signal.SIGKILL)
        return 0


if __name__ == "__main__":
    sys.exit(main())
