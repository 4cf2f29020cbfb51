"""The README's demo: the local stack with sample data, each sync job once, then the Dagster UI.

Starts moto's S3 server on 127.0.0.1:9000, the Dify stand-in (`--demo`: datasets kb-blue/kb-green/kb-videos/
kb-handbook, a workflow app) on 127.0.0.1:5001 and the sample video site (three videos: manual subtitles, automatic
captions, none) on 127.0.0.1:8765, uploads examples/sample-docs to s3://difyops-demo/docs/, runs
`dg launch --job sync_job` (the blue/green `sync:`) and then `dg launch --job sync_handbook_job` (the named sync
`handbook` of `syncs:`) into $DAGSTER_HOME (var/dagster_home, SQLite), so that the UI shows both groups
materialized, then serves `dg dev` on 127.0.0.1:3000 until Ctrl-C, where the daemon's video sensor finds the three
videos. The servers' logs go to var/logs/. Ctrl-C (or SIGTERM) stops every process the demo started, down to the
code server and any run in progress. `--no-ui` stops after the syncs (used by the test that keeps this command
honest).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from dify_standin.processes import DagsterDevProcess, ServerProcess, end_process_group
from difyops_dagster_tests.demo_stack import BUCKET, ROOT, running_demo_stack

VIDEO_SITE_PORT = 8765  # config/demo.yaml's video source
DG = str(Path(sys.executable).with_name("dg"))
# config/demo.yaml's syncs, in the order the demo runs them: job -> what it does.
SYNC_JOBS = {
    "sync_job": "blue/green sync of the sample bucket",
    "sync_handbook_job": "the handbook knowledge base: docs/handbook/ into kb-handbook",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-ui", action="store_true", help="stop after the syncs instead of serving the UI")
    parser.add_argument("--dify-port", type=int, default=int(os.environ.get("DEMO_DIFY_PORT", 5001)))
    parser.add_argument("--s3-port", type=int, default=int(os.environ.get("DEMO_S3_PORT", 9000)))
    parser.add_argument("--ui-port", type=int, default=int(os.environ.get("DEMO_UI_PORT", 3000)))
    parser.add_argument("--home", default=os.environ.get("DEMO_DAGSTER_HOME", str(ROOT / "var" / "dagster_home")))
    args = parser.parse_args()
    # Ctrl-C and SIGTERM end the demo the same way, whatever the shell that started it ignores.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        return demo(args, Path(args.home).resolve())
    except KeyboardInterrupt:
        print("demo: stopped; no process of the demo is left", flush=True)
        return 0


def _stop(signum: int, frame: object) -> None:
    """The first Ctrl-C stops the demo; later ones are ignored, so that the stopping itself is not cut short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("\ndemo: stopping every process of the demo ...", flush=True)
    raise KeyboardInterrupt


def demo(args: argparse.Namespace, home: Path) -> int:
    logs = home.parent / "logs"
    with running_demo_stack(
        home, log_dir=logs, indexing_seconds=1.0, dify_port=args.dify_port, s3_port=args.s3_port
    ) as stack:
        print(f"demo: uploaded {stack.documents} sample files to s3://{BUCKET}/docs/ at {stack.s3.endpoint_url}")
        print(f"demo: Dify stand-in at {stack.standin.api_url}; server logs in {logs}", flush=True)
        env = {**os.environ, **stack.env}
        if args.no_ui:
            return run_syncs(env)
        with sample_video_site(env, logs):
            synced = run_syncs(env)
            with DagsterDevProcess(ROOT / "workspace.yaml", env, ROOT, port=args.ui_port, log_dir=logs) as ui:
                print(f"demo: Dagster UI on {ui.url} (Ctrl-C stops everything); its log: {ui.log_path}", flush=True)
                assert ui.proc is not None
                return ui.proc.wait() or synced


@contextlib.contextmanager
def sample_video_site(env: dict[str, str], logs: Path):
    """The tests' sample video site as its own process, for the demo's video source (feed.xml)."""
    argv = [sys.executable, "-m", "difyops_dagster_tests.video.sample_site", "--port", str(VIDEO_SITE_PORT)]
    site = ServerProcess("sample-videos", argv, f"http://127.0.0.1:{VIDEO_SITE_PORT}/feed.xml", env, log_dir=logs)
    try:
        site.start(timeout=60.0)
        print(f"demo: sample videos at {site.health_url}", flush=True)
    except RuntimeError:
        print("demo: the sample video site did not start; the video sensor will report its source", flush=True)
    try:
        yield
    finally:
        site.stop()


def run_syncs(env: dict[str, str]) -> int:
    """Every job of SYNC_JOBS, one after the other, even after a failure: 0 when all succeeded."""
    statuses = [run_sync(env, job, what) for job, what in SYNC_JOBS.items()]
    return next((status for status in statuses if status), 0)


def run_sync(env: dict[str, str], job: str, what: str) -> int:
    """`dg launch --job <job>` in its own process group: an interrupt stops the run and every step process."""
    print(f"demo: running {job} ({what}) ...", flush=True)
    launch = subprocess.Popen(
        [DG, "launch", "--job", job, "-m", "difyops_dagster.definitions"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        synced = launch.wait()
    finally:
        if launch.poll() is None:  # interrupted: let Dagster end the run as on Ctrl-C, then end what is left
            with contextlib.suppress(ProcessLookupError):
                os.killpg(launch.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                launch.wait(60)
        end_process_group(launch.pid)
    print(f"demo: {job} {'succeeded' if synced == 0 else 'FAILED'}", flush=True)
    return synced


if __name__ == "__main__":
    sys.exit(main())
