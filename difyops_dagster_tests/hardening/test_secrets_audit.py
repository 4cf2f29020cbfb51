"""Secrets audit (issue 9): every job of the code location runs with distinctive fake secrets, and none of them shows
up anywhere a person or another system can read afterwards.

Every secret the settings can name is set to a value carrying `MARK`: the Dify dataset key, two app keys (one of an
app whose workflow fails), the console password (the reports' node executions, and the chatflow of `sync.apps` that
promotion, rollback and `reconcile_apps_job` switch), the S3 access and secret keys, the SMTP password, the Slack /
DingTalk / WeCom webhook URLs with their tokens and the DingTalk signing secret, the promotion webhook's token (of the
`sync:` section and of the `handbook` knowledge base of `syncs:`, each with its own token and its own chatflow), and
the yt-dlp cookies file (its path and the cookie inside). Each job is launched by `dg launch` in its own process with
`DAGSTER_HOME` in a temporary folder, exactly as an operator would; then the scan reads:

- the launch process's stdout and stderr;
- the Dagster event log of every run of the job (every event: messages, metadata, errors and their causes);
- the run records (run config, tags) and the captured compute logs (stdout/stderr of each step);
- every file under DAGSTER_HOME (the SQLite storages themselves), the local artifact folder and every object in
  the S3 buckets (reports, hand-offs, the colour state);
- what the local SMTP and Slack / DingTalk / WeCom receivers were sent (message bodies; the URL a webhook is called
  on *is* its credential and is not a leak).

One cell per job, plus the run-failure notice the sensor sends for the failed workflow run. A cell records
`secrets_found` and `places_scanned`; a self-test plants the secret in each kind of place to prove the scan finds it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
import requests
import yaml
from dagster._serdes import serialize_value

from dify_standin.processes import ServerProcess, StandinProcess, free_port
from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import load_settings
from difyops_dagster_tests.notify.conftest import make_self_signed
from difyops_dagster_tests.receivers import WebhookReceiver
from difyops_dagster_tests.reports.scenario import ROWS
from difyops_dagster_tests.video.sample_site import MediaSite, make_clip, publish_three_videos

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("secrets_audit"),
    pytest.mark.timeout(1800),  # the first cell sets up the whole audit: ten `dg launch` processes
]
CELL = pytest.mark.scoreboard("secrets")
ROOT = Path(__file__).resolve().parents[2]
DG = str(Path(sys.executable).with_name("dg"))
MARK = "ZK9SECRET"  # in every secret value below and in nothing else this module produces
SLACK_PATH = f"T0ZK9/B0ZK9/{MARK}slack"
DINGTALK_TOKEN = f"{MARK}-ding-token"
WECOM_KEY = f"{MARK}-wecom-key"
SMTP_USER = "audit@example.com"
COOKIE_VALUE = f"{MARK}-cookie-value"
SECRETS = {
    "AUDIT_DATASET_KEY": f"dataset-{MARK}-ds7f1c",
    "AUDIT_SUMMARIZE_KEY": f"app-{MARK}-sum31aa",
    "AUDIT_FAILING_KEY": f"app-{MARK}-fail52bb",
    "AUDIT_CONSOLE_PASSWORD": f"console-{MARK}-pw",
    "AUDIT_S3_ACCESS_KEY": f"AKIA{MARK}0001",
    "AUDIT_S3_SECRET_KEY": f"{MARK}-s3-secret-key",
    "AUDIT_SMTP_PASSWORD": f"smtp-{MARK}-pw",
    "AUDIT_DINGTALK_SECRET": f"SEC{MARK}-ding-sign",
    "AUDIT_HOOK_TOKEN": f"{MARK}-hook-token",
    "AUDIT_HANDBOOK_HOOK_TOKEN": f"{MARK}-handbook-hook-token",
}
CONSOLE_EMAIL = "audit-console@example.com"
JOBS = [
    "sync_job",
    "rollback_colour_job",
    "release_colour_hold_job",
    "reconcile_apps_job",
    "sync_handbook_job",
    "rollback_colour_handbook_job",
    "release_colour_hold_handbook_job",
    "reconcile_apps_handbook_job",
    "video_job",
    "video_dataset_job",
    "run_workflow_apps",
    "workflows_after_active_colour_job",
    "workflow_report_daily_job",
    "workflow_report_weekly_job",
]


# --- the scan -------------------------------------------------------------------------------------------------------


@dataclass
class Scan:
    """Needles (every secret value, and MARK) looked for in named places; each hit is `place | excerpt`."""

    needles: tuple[str, ...]
    places: int = 0
    hits: list[str] = field(default_factory=list)

    def text(self, place: str, text: str | bytes) -> None:
        data = text if isinstance(text, bytes) else text.encode("utf-8", errors="replace")
        self.places += 1
        for needle in self.needles:
            at = data.find(needle.encode())
            if at >= 0:
                excerpt = data[max(0, at - 60) : at + 60].decode("utf-8", errors="replace")
                self.hits.append(f"{place} | ...{excerpt}...")
                return

    def folder(self, place: str, root: Path, skip: tuple[Path, ...] = ()) -> None:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if not any(path.is_relative_to(s) for s in skip):
                self.text(f"{place}/{path.relative_to(root)}", path.read_bytes())

    def bucket(self, s3, name: str) -> None:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", ()):
                self.text(f"s3://{name}/{obj['Key']} (key)", obj["Key"])
                self.text(f"s3://{name}/{obj['Key']}", s3.get_object(Bucket=name, Key=obj["Key"])["Body"].read())

    def runs(self, instance: dg.DagsterInstance, run_ids: list[str]) -> None:
        for run_id in run_ids:
            run = instance.get_run_by_id(run_id)
            self.text(f"run {run_id[:8]} record (config, tags)", serialize_value(run))
            for entry in instance.all_logs(run_id):
                self.text(f"run {run_id[:8]} event {entry.dagster_event_type or 'log'}", serialize_value(entry))


def needles() -> tuple[str, ...]:
    values = [*SECRETS.values(), SLACK_PATH, DINGTALK_TOKEN, WECOM_KEY, COOKIE_VALUE]
    return (MARK, *sorted(set(values), key=len, reverse=True))


# --- the world the jobs run in --------------------------------------------------------------------------------------


@dataclass
class Launch:
    job: str
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Audit:
    home: Path
    work: Path
    artifacts: Path
    cookies: Path
    s3: object
    buckets: list[str]
    webhooks_url: str
    smtp_out: Path
    hook: WebhookReceiver
    site: MediaSite
    env: dict[str, str]
    launches: list[Launch] = field(default_factory=list)

    def launch(self, job: str, *args: str, config: Path | None = None) -> Launch:
        argv = [DG, "launch", "--job", job, *args]
        env = {**self.env, "DIFYOPS_CONFIG": str(config or self.work / "difyops.yaml")}
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        launch = Launch(job, argv, done.returncode, done.stdout, done.stderr)
        self.launches.append(launch)
        return launch

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))

    def run_ids(self, instance: dg.DagsterInstance, job: str) -> list[str]:
        return [r.run_id for r in instance.get_runs(dg.RunsFilter(job_name=job))]

    def scan_job(self, job: str) -> Scan:
        scan = Scan(needles())
        for launch in (x for x in self.launches if x.job == job):
            scan.text(f"dg launch {job} stdout", launch.stdout)
            scan.text(f"dg launch {job} stderr", launch.stderr)
        with self.instance() as instance:
            run_ids = self.run_ids(instance, job)
            assert run_ids, f"no run of {job} in the instance"
            scan.runs(instance, run_ids)
        for run_id in run_ids:
            scan.folder(f"compute logs of {run_id[:8]}", self.home / "storage" / run_id)
        self.scan_shared(scan)
        return scan

    def scan_shared(self, scan: Scan) -> None:
        """What every job writes into: DAGSTER_HOME, the artifacts, the buckets, the receivers."""
        scan.folder("DAGSTER_HOME", self.home)
        scan.folder("work folder", self.work, skip=(self.cookies.parent,))
        for name in self.buckets:
            scan.bucket(self.s3, name)
        for item in requests.get(f"{self.webhooks_url}/_received", timeout=5).json()["received"]:
            scan.text(f"{item['service']} message", json.dumps(item["body"], ensure_ascii=False))
        for path in sorted(self.smtp_out.glob("*.json")):
            scan.text(f"e-mail {path.stem[:8]}", json.loads(path.read_text())["data"])
        for request in self.hook.requests:
            scan.text("promotion webhook body", request["body"])


def _start_smtp(folder: Path) -> tuple[subprocess.Popen, int, Path, Path]:
    cert, key = make_self_signed(folder)
    out = folder / "received"
    out.mkdir()
    port = free_port()
    argv = [sys.executable, "-m", "difyops_dagster_tests.notify.smtp_receiver", "--port", str(port),
            "--cert", str(cert), "--key", str(key), "--user", SMTP_USER, "--password",
            SECRETS["AUDIT_SMTP_PASSWORD"], "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"220"):
                    return proc, port, cert, out
        except OSError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("the SMTP receiver did not start")


def settings_file(audit_dirs: dict, ids: dict, ports: dict, storage: dict) -> dict:
    return {
        "dify": {
            "base_url": ports["dify"],
            "dataset_api_key": {"env": "AUDIT_DATASET_KEY"},
            "max_retries": 0,
            "backoff_factor_s": 0.01,
            "rate_limit_per_second": 0,
            "console": {"url": ports["console"], "email": CONSOLE_EMAIL, "password": {"env": "AUDIT_CONSOLE_PASSWORD"}},
        },
        "s3": {
            "endpoint_url": ports["s3"],
            "access_key_id": {"env": "AUDIT_S3_ACCESS_KEY"},
            "secret_access_key": {"env": "AUDIT_S3_SECRET_KEY"},
        },
        "storage": storage,
        "execution": {"executor": "in_process"},
        "sync": {
            "bucket": ids["docs_bucket"],
            "blue_dataset_id": ids["blue"],
            "green_dataset_id": ids["green"],
            "indexing_poll_s": 0.05,
            "indexing_timeout_s": 30,
            "webhook_url": ports["hook"],
            "webhook_token": {"env": "AUDIT_HOOK_TOKEN"},
            "apps": [ids["chatflow"]],  # switched through the console on promotion and rollback
        },
        "syncs": [
            {
                "name": "handbook",
                "bucket": ids["handbook_bucket"],
                "blue_dataset_id": ids["handbook_blue"],
                "green_dataset_id": ids["handbook_green"],
                "indexing_poll_s": 0.05,
                "indexing_timeout_s": 30,
                "webhook_url": ports["hook"],
                "webhook_token": {"env": "AUDIT_HANDBOOK_HOOK_TOKEN"},
                "apps": [ids["handbook_chatflow"]],
            }
        ],
        "video": {
            "dataset_id": ids["videos"],
            "sources": [{"name": "team", "url": ports["feed"]}],
            "cookies_file": {"env": "AUDIT_COOKIES_FILE"},
            "sleep_interval_s": 0,
            "retries": 0,
            "socket_timeout_s": 10,
            "extra_extractors": ["difyops_dagster_tests.video.localtube:LocalTubeIE"],
            "indexing_poll_s": 0.05,
            "indexing_timeout_s": 30,
        },
        "workflows": {
            "apps": [
                {
                    "name": "summarize",
                    "api_key": {"env": "AUDIT_SUMMARIZE_KEY"},
                    "inputs": {"text": "audit"},
                    "run_after": ["active_colour"],
                    "retries": 0,
                },
                {
                    "name": "failing",
                    "api_key": {"env": "AUDIT_FAILING_KEY"},
                    "inputs": {"text": "__fail__"},
                    "retries": 0,
                },
            ]
        },
        "reports": {
            "apps": [{"name": "support_bot", "api_key": {"env": "AUDIT_SUMMARIZE_KEY"}, "app_id": ids["app"]}],
            "timezone": "Asia/Shanghai",
            "start_date": "2026-10-01",
            "enrich_workers": 2,
            "notify_backfills": True,
        },
        "notify": {
            "email": {
                "host": "127.0.0.1",
                "port": ports["smtp"],
                "username": SMTP_USER,
                "password": {"env": "AUDIT_SMTP_PASSWORD"},
                "sender": SMTP_USER,
                "recipients": ["team@example.com"],
                "ca_file": audit_dirs["ca"],
                "timeout_s": 10,
            },
            "slack": {"webhook_url": {"env": "AUDIT_SLACK_URL"}},
            "dingtalk": {"webhook_url": {"env": "AUDIT_DINGTALK_URL"}, "secret": {"env": "AUDIT_DINGTALK_SECRET"}},
            "wecom": {"webhook_url": {"env": "AUDIT_WECOM_URL"}},
            "run_failures": True,
        },
    }


@pytest.fixture(scope="module")
def audit(tmp_path_factory, s3_server) -> Iterator[Audit]:
    work = tmp_path_factory.mktemp("audit")
    home = work / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    cookies_dir = tmp_path_factory.mktemp("site-login")
    cookies = cookies_dir / f"cookies-{MARK}.txt"
    cookies.write_text(f"# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\t{COOKIE_VALUE}\n")
    clip = make_clip(tmp_path_factory.mktemp("media") / "clip.mp4")
    smtp_proc, smtp_port, cert, smtp_out = _start_smtp(tmp_path_factory.mktemp("smtp"))
    port = free_port()
    receivers = ServerProcess(
        "audit-receivers",
        [sys.executable, "-m", "difyops_dagster_tests.notify.receivers", "--port", str(port), "--slack-path",
         SLACK_PATH, "--dingtalk-token", DINGTALK_TOKEN, "--dingtalk-secret", SECRETS["AUDIT_DINGTALK_SECRET"],
         "--wecom-key", WECOM_KEY],
        f"http://127.0.0.1:{port}/_health",
    )  # fmt: skip
    webhooks_url = f"http://127.0.0.1:{port}"
    site = MediaSite(work / "site", clip)
    with StandinProcess(dataset_key=SECRETS["AUDIT_DATASET_KEY"]) as standin, receivers, WebhookReceiver() as hook:
        try:
            admin = standin.admin
            ids = {"blue": admin.create_dataset("kb-blue")["id"], "green": admin.create_dataset("kb-green")["id"],
                   "videos": admin.create_dataset("kb-videos")["id"],
                   "handbook_blue": admin.create_dataset("handbook-blue")["id"],
                   "handbook_green": admin.create_dataset("handbook-green")["id"]}  # fmt: skip
            summarize = {"outputs": {"summary": "Summary of {{text}}"}, "tokens": 10}
            form = [{"paragraph": {"label": "Text", "variable": "text", "required": True}}]
            app = admin.create_app(
                "summarize", SECRETS["AUDIT_SUMMARIZE_KEY"], workflow=summarize, user_input_form=form
            )
            admin.create_app("failing", SECRETS["AUDIT_FAILING_KEY"], workflow=summarize, user_input_form=form)
            admin.seed_logs(app["id"], ROWS)
            admin.set_console_account(CONSOLE_EMAIL, SECRETS["AUDIT_CONSOLE_PASSWORD"])
            ids["app"] = app["id"]
            ids["chatflow"] = admin.create_console_app("support", "advanced-chat", dataset_ids=[ids["blue"]])["id"]
            handbook_app = admin.create_console_app("handbook", "advanced-chat", dataset_ids=[ids["handbook_blue"]])
            ids["handbook_chatflow"] = handbook_app["id"]
            s3 = s3_server.client()
            ids["docs_bucket"], ids["handbook_bucket"], artifacts_bucket = (
                f"audit-docs-{uuid.uuid4().hex[:8]}",
                f"audit-handbook-{uuid.uuid4().hex[:8]}",
                f"audit-art-{uuid.uuid4().hex[:8]}",
            )
            for name in (ids["docs_bucket"], ids["handbook_bucket"], artifacts_bucket):
                s3.create_bucket(Bucket=name)
            # Green served, then blue: each sync writes and promotes green, and the rollback has blue to return to.
            for bucket, state_key, colour_ids in [
                (ids["docs_bucket"], "_difyops/active-colour.json", {c: ids[c] for c in ("blue", "green")}),
                (ids["handbook_bucket"], "_difyops/handbook/active-colour.json",
                 {c: ids[f"handbook_{c}"] for c in ("blue", "green")}),
            ]:  # fmt: skip
                for i in range(3):
                    s3.put_object(Bucket=bucket, Key=f"docs/f{i}.md", Body=f"# file {i}".encode())
                history = [{"colour": c, "dataset_id": colour_ids[c], "at": "2026-11-01T00:00:00+00:00",
                            "reason": "seeded"} for c in ("green", "blue")]  # fmt: skip
                state = json.dumps({"active": "blue", "history": history}).encode()
                s3.put_object(Bucket=bucket, Key=state_key, Body=state)
            videos = publish_three_videos(site)
            ports = {"dify": standin.api_url, "console": standin.url, "s3": s3_server.endpoint_url, "hook": hook.url,
                     "feed": videos.feed, "smtp": smtp_port}  # fmt: skip
            env = {
                **os.environ,
                **SECRETS,
                "AUDIT_COOKIES_FILE": str(cookies),
                "AUDIT_SLACK_URL": f"{webhooks_url}/services/{SLACK_PATH}",
                "AUDIT_DINGTALK_URL": f"{webhooks_url}/robot/send?access_token={DINGTALK_TOKEN}",
                "AUDIT_WECOM_URL": f"{webhooks_url}/cgi-bin/webhook/send?key={WECOM_KEY}",
                "DAGSTER_HOME": str(home),
                "DIFYOPS_CONFIG": str(work / "difyops.yaml"),
            }
            s3_storage = {"kind": "s3", "bucket": artifacts_bucket, "prefix": "difyops/"}
            local_storage = {"kind": "local", "local_dir": str(work / "artifacts")}
            dirs = {"ca": str(cert)}
            (work / "difyops.yaml").write_text(yaml.safe_dump(settings_file(dirs, ids, ports, s3_storage)))
            (work / "local.yaml").write_text(yaml.safe_dump(settings_file(dirs, ids, ports, local_storage)))
            buckets = [ids["docs_bucket"], ids["handbook_bucket"], artifacts_bucket]
            audit = Audit(home, work, work / "artifacts", cookies, s3, buckets, webhooks_url, smtp_out, hook, site,
                          env)  # fmt: skip
            _run_every_job(audit)
            yield audit
        finally:
            site.close()
            os.killpg(smtp_proc.pid, signal.SIGTERM)
            smtp_proc.wait(10)


def _run_every_job(audit: Audit) -> None:
    """Each job once, in the order an operator's day has."""
    for sync in ("", "_handbook"):  # the `sync:` section, then the knowledge base of `syncs:`
        for job in (f"sync{sync}_job", f"rollback_colour{sync}_job", f"release_colour_hold{sync}_job",
                    f"reconcile_apps{sync}_job"):  # fmt: skip
            assert audit.launch(job).returncode == 0, audit.launches[-1].stderr[-3000:]
    key = _video_partition(audit)
    assert audit.launch("video_job", "--partition", key).returncode == 0, audit.launches[-1].stderr[-3000:]
    assert audit.launch("video_dataset_job").returncode == 0, audit.launches[-1].stderr[-3000:]
    assert audit.launch("run_workflow_apps").returncode != 0  # the failing app fails the run; summarize still ran
    assert audit.launch("workflows_after_active_colour_job").returncode == 0, audit.launches[-1].stderr[-3000:]
    week = ("--partition-range", "2026-10-05...2026-10-11")
    assert audit.launch("workflow_report_daily_job", *week).returncode == 0, audit.launches[-1].stderr[-3000:]
    local = audit.launch("workflow_report_daily_job", "--partition", "2026-10-07", config=audit.work / "local.yaml")
    assert local.returncode == 0, local.stderr[-3000:]
    weekly = audit.launch("workflow_report_weekly_job", "--partition", "2026-10-05")
    assert weekly.returncode == 0, weekly.stderr[-3000:]


def _video_partition(audit: Audit) -> str:
    """One tick of the sources sensor against the audit instance (as the daemon would run it); the manual video."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in audit.env.items():
            patch.setenv(name, value)
        defs = build_definitions(load_settings())
        sensor = defs.resolve_sensor_def("video_sources_sensor")
        resources = {k: defs.resources[k] for k in ("artifacts", "video_site_access")}
        with audit.instance() as instance:
            with dg.build_sensor_context(instance=instance, resources=resources) as context:
                result = sensor(context)
            keys = [r.partition_key for r in result.run_requests]
            instance.add_dynamic_partitions("videos", keys)
    return next(k for k in keys if k.startswith("html5mediaembed:"))


# --- the cells --------------------------------------------------------------------------------------------------------


def test_the_audit_covers_every_job_of_the_code_location(audit):
    with pytest.MonkeyPatch.context() as patch:
        for name, value in audit.env.items():
            patch.setenv(name, value)
        defs = build_definitions(load_settings())
    jobs = {job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")}
    assert jobs == set(JOBS)
    # Every secret was in use, so a clean scan means something: each channel got the reports, the router got the
    # promotions, the site got the cookie, Dify and S3 answered the keys (the jobs succeeded).
    received = requests.get(f"{audit.webhooks_url}/_received", timeout=5).json()["received"]
    assert {item["service"] for item in received} >= {"slack", "dingtalk", "wecom"}
    assert list(audit.smtp_out.glob("*.json"))
    assert len(audit.hook.requests) >= 4  # each sync's promotion and rollback
    assert any(r.cookie and COOKIE_VALUE in r.cookie for r in audit.site.requests)


@CELL
@pytest.mark.parametrize("job", JOBS)
def test_no_secret_shows_after_running(job, audit, record_property):
    scan = audit.scan_job(job)
    record_property("secrets_found", len(scan.hits))
    record_property("places_scanned", scan.places)
    assert scan.places > 20
    assert scan.hits == []


@CELL
def test_no_secret_shows_in_the_run_failure_notice(audit, capfd, record_property):
    """The failed `run_workflow_apps` run, announced by the run-failure sensor on every channel."""
    before = len(requests.get(f"{audit.webhooks_url}/_received", timeout=5).json()["received"])
    with pytest.MonkeyPatch.context() as patch:
        for name, value in audit.env.items():
            patch.setenv(name, value)
        with audit.instance() as instance:
            defs = build_definitions(load_settings())
            (failed,) = [
                r for r in instance.get_runs(dg.RunsFilter(job_name="run_workflow_apps")) if r.status.value == "FAILURE"
            ]
            failure = instance.get_records_for_run(failed.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records[0]
            sensor = defs.resolve_sensor_def("run_failure_sensor")
            context = dg.build_run_status_sensor_context(
                sensor_name="run_failure_sensor",
                dagster_instance=instance,
                dagster_run=failed,
                dagster_event=failure.event_log_entry.dagster_event,
                resources={"notifier": defs.resources["notifier"]},
            ).for_run_failure()
            sensor(context)
    received = requests.get(f"{audit.webhooks_url}/_received", timeout=5).json()["received"]
    assert len(received) == before + 3  # slack, dingtalk, wecom (and e-mail below)
    assert any("failing" in json.dumps(item["body"]) for item in received[before:])
    scan = Scan(needles())
    out, err = capfd.readouterr()
    scan.text("sensor stdout", out)
    scan.text("sensor stderr", err)
    audit.scan_shared(scan)
    record_property("secrets_found", len(scan.hits))
    record_property("places_scanned", scan.places)
    assert scan.hits == []


def test_the_scan_finds_a_planted_secret_in_each_kind_of_place(audit, tmp_path):
    """The audit can fail: a secret put in a run's event log, a file and an S3 object is found in each."""
    planted = SECRETS["AUDIT_SMTP_PASSWORD"]
    scan = Scan(needles())

    @dg.op
    def leaky(context):
        context.log.info(f"connecting with {planted}")

    @dg.job(name="leaky")
    def leaky_job():
        leaky()

    with dg.instance_for_test() as instance:
        run = leaky_job.execute_in_process(instance=instance)
        scan.runs(instance, [run.run_id])
    (tmp_path / "report.md").write_text(f"password: {planted}")
    scan.folder("planted folder", tmp_path)
    audit.s3.put_object(Bucket=audit.buckets[-1], Key="planted/leak.txt", Body=f"key {MARK}".encode())
    try:
        scan.bucket(audit.s3, audit.buckets[-1])
    finally:
        audit.s3.delete_object(Bucket=audit.buckets[-1], Key="planted/leak.txt")
    places = {hit.split(" | ")[0].split(" event")[0] for hit in scan.hits}
    assert any(p.startswith("run ") for p in places), scan.hits
    assert "planted folder/report.md" in places
    assert any(p.startswith("s3://") and "planted/leak.txt" in p for p in places)
