"""Bad input catalogue (issue 9): every wrong thing an operator, a bucket, a site or a caller can hand the code
location is refused with an error that names it, and nothing else is lost.

Each test is one scoreboard cell (`bad_input`). A cell asserts both halves: the message names the culprit (the
setting path, the S3 key, the dataset id, the URL, the input, the channel) and never a secret; and the rest is
untouched (the active dataset keeps its documents and its colour, the other files / videos / apps / channels still
go through, earlier reports stay as they were).

Settings cases go through the settings *file* (`DIFYOPS_CONFIG`), the way the code location loads, on a complete
configuration with every feature on, so each path named is the one an operator edits. Run-time cases run the real
jobs against the Dify stand-in, moto S3, the local media site and the local SMTP / webhook receivers.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest
import yaml

from dify_standin.processes import free_port
from difyops_dagster.definitions import build_definitions
from difyops_dagster.notify.defs import build_defs as build_notify_defs
from difyops_dagster.notify.message import Notification
from difyops_dagster.settings import SettingsError, load_settings, parse_settings
from difyops_dagster_tests.notify.conftest import SMTP_USER, settings_with, webhook_server  # noqa: F401
from difyops_dagster_tests.receivers import WebhookReceiver
from difyops_dagster_tests.sync.conftest import KEY_VAR, STATE_KEY, SyncWorld, new_pair, open_world
from difyops_dagster_tests.workflows.conftest import ENV as APP_ENV
from difyops_dagster_tests.workflows.conftest import definitions, failure_message, materialize, with_app

CELL = pytest.mark.scoreboard("bad_input")
ROOT = Path(__file__).resolve().parents[2]
MARK = "Q7BADINPUT"  # in every secret value of this module, and in nothing else
SECRET_ENV = {
    "BI_DATASET_KEY": f"dataset-{MARK}-dataset-key",
    "BI_APP_KEY": f"app-{MARK}-app-key",
    "BI_CONSOLE_PASSWORD": f"console-{MARK}",
    "BI_S3_ACCESS": f"access-{MARK}",
    "BI_S3_SECRET": f"secret-{MARK}",
    "BI_SMTP_PASSWORD": f"smtp-{MARK}",
    "BI_SLACK_URL": f"https://hooks.slack.com/services/T0/B0/{MARK}",
    "BI_HOOK_TOKEN": f"hook-{MARK}",
}
BLUE = "0b1e0000-0000-4000-8000-000000000001"
GREEN = "06ee0000-0000-4000-8000-000000000002"
VIDEOS = "0f1d0000-0000-4000-8000-000000000003"
CHATFLOW = "0a990000-0000-4000-8000-000000000006"
HANDBOOK = {  # a knowledge base of `syncs:`, with its own bucket, webhook token and app
    "name": "handbook",
    "bucket": "handbook",
    "blue_dataset_id": "0b1e0000-0000-4000-8000-000000000004",
    "green_dataset_id": "06ee0000-0000-4000-8000-000000000005",
    "webhook_url": "http://127.0.0.1:8088/hook",
    "webhook_token": {"env": "BI_HOOK_TOKEN"},
    "apps": [CHATFLOW],
}
# A second one reading handbook's bucket, on datasets of its own.
FAQ = {"name": "faq", "bucket": "handbook", "prefix": "faq/", "mode": "single",
       "dataset_id": "0fa00000-0000-4000-8000-000000000007"}  # fmt: skip


# --- settings: the file the code location loads ---------------------------------------------------------------------


def full_config() -> dict:
    """A valid settings file with every feature on (checked by the first cell)."""
    return {
        "dify": {
            "base_url": "http://127.0.0.1:5001/v1",
            "dataset_api_key": {"env": "BI_DATASET_KEY"},
            "console": {
                "url": "http://127.0.0.1:5001",
                "email": "ops@example.com",
                "password": {"env": "BI_CONSOLE_PASSWORD"},
            },
        },
        "s3": {
            "endpoint_url": "http://127.0.0.1:9000",
            "access_key_id": {"env": "BI_S3_ACCESS"},
            "secret_access_key": {"env": "BI_S3_SECRET"},
        },
        "storage": {"kind": "local", "local_dir": "var/artifacts"},
        "sync": {
            "bucket": "docs",
            "blue_dataset_id": BLUE,
            "green_dataset_id": GREEN,
            "webhook_url": "http://127.0.0.1:8088/hook",
            "webhook_token": {"env": "BI_HOOK_TOKEN"},
        },
        "syncs": [HANDBOOK, FAQ],
        "video": {
            "dataset_id": VIDEOS,
            "sources": [{"name": "team", "url": "http://127.0.0.1:8765/feed.xml"}],
        },
        "workflows": {"apps": [{"name": "summarize", "api_key": {"env": "BI_APP_KEY"}, "schedule_cron": "0 * * * *"}]},
        "reports": {"apps": [{"name": "support_bot", "api_key": {"env": "BI_APP_KEY"}}], "start_date": "2026-10-01"},
        "notify": {
            "email": {
                "host": "127.0.0.1",
                "username": "ops",
                "password": {"env": "BI_SMTP_PASSWORD"},
                "sender": "ops@example.com",
                "recipients": ["team@example.com"],
            },
            "slack": {"webhook_url": {"env": "BI_SLACK_URL"}},
        },
    }


def _set(config: dict, path: str, value: object) -> dict:
    """A copy of `config` with the dotted `path` (list indexes as numbers) set to `value`."""
    config = copy.deepcopy(config)
    *parents, last = path.split(".")
    node: object = config
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return config


def _load(tmp_path: Path, content: object) -> SettingsError:
    path = tmp_path / "difyops.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True))
    with pytest.raises(SettingsError) as info:
        load_settings({"DIFYOPS_CONFIG": str(path), **SECRET_ENV})
    return info.value


LONG_NAME = "n" * 1000
# (setting path, bad value, fragments the message must hold). Each row is one cell.
SETTINGS_CASES = {
    "unknown_top_level_section": ("notfiy", {"slack": {}}, ["notfiy", "Extra inputs are not permitted"]),
    "unknown_sync_setting": ("sync.max_delete_ration", 0.2, ["sync.max_delete_ration"]),
    "sync_cron_not_a_cron": ("sync.schedule_cron", "every day at 3pm", ["sync.schedule_cron", "every day at 3pm"]),
    "workflow_cron_out_of_range": (
        "workflows.apps.0.schedule_cron",
        "61 * * * *",
        ["workflows.apps.0.schedule_cron", "61 * * * *"],
    ),
    "sync_timezone_unknown": (
        "sync.schedule_timezone",
        "Mars/Olympus_Mons",
        ["sync.schedule_timezone", "Mars/Olympus"],
    ),
    "reports_timezone_unknown": ("reports.timezone", "Asia/Atlantis", ["reports.timezone", "Asia/Atlantis"]),
    "negative_sync_concurrency": ("sync.upload_concurrency", -4, ["sync.upload_concurrency", "greater than or equal"]),
    "negative_video_concurrency": ("video.upload_concurrency", -1, ["video.upload_concurrency"]),
    "negative_report_workers": ("reports.enrich_workers", -2, ["reports.enrich_workers"]),
    "delete_ratio_above_one": ("sync.max_delete_ratio", 1.5, ["sync.max_delete_ratio", "less than or equal to 1"]),
    "delete_ratio_not_a_number": ("sync.max_delete_ratio", "half", ["sync.max_delete_ratio", "valid number"]),
    "retries_not_an_integer": ("dify.max_retries", "many", ["dify.max_retries", "valid integer"]),
    "dify_url_not_http": ("dify.base_url", "ftp://dify.example.com", ["dify.base_url", "ftp://dify.example.com"]),
    "smtp_port_out_of_range": ("notify.email.port", 70000, ["notify.email.port", "less than or equal to 65535"]),
    "report_clock_not_a_time": ("reports.daily_at", "25:61", ["reports.daily_at", "25:61"]),
    "dataset_id_not_a_uuid": ("sync.blue_dataset_id", "kb-blue", ["sync.blue_dataset_id", "UUID", "kb-blue"]),
    "video_dataset_id_not_a_uuid": ("video.dataset_id", "videos", ["video.dataset_id", "UUID"]),
    "workflow_app_name_of_1000_characters": ("workflows.apps.0.name", LONG_NAME, ["workflows.apps.0.name"]),
    "video_source_name_of_1000_characters": ("video.sources.0.name", LONG_NAME, ["video.sources.0.name"]),
    "video_source_not_http": (
        "video.sources.0.url",
        "file:///etc/passwd",
        ["video.sources.0.url", "file:///etc/passwd"],
    ),
    "no_accepted_extension": ("sync.accepted_extensions", [" ", "."], ["sync.accepted_extensions"]),
    "retention_shorter_than_a_week": ("reports.retention_days", 3, ["reports.retention_days"]),
    "run_after_not_an_asset_key": (
        "workflows.apps.0.run_after",
        ["active colour!"],
        ["workflows.apps.0.run_after", "active colour!"],
    ),
    "secret_written_literally": (
        "sync.webhook_token",
        f"literal-{MARK}",
        ["sync.webhook_token", "{env: VARIABLE_NAME}"],
    ),
    "secret_variable_not_set": (
        "notify.email.password",
        {"env": "BI_UNSET_SMTP_PASSWORD"},
        ["notify.email.password", "BI_UNSET_SMTP_PASSWORD"],
    ),
    # `syncs:` (issue 18): each dataset has one writer, each colour-state object one sync, each sync one name.
    "two_syncs_write_one_dataset": (
        "syncs.0.green_dataset_id",
        BLUE,
        ["syncs[handbook].green_dataset_id and sync.blue_dataset_id both write dataset " + BLUE],
    ),
    "a_sync_writes_the_video_dataset": (
        "syncs.1.dataset_id",
        VIDEOS,
        ["video.dataset_id and syncs[faq].dataset_id both write dataset " + VIDEOS],
    ),
    "two_syncs_share_a_colour_state_object": (
        "syncs.1.state_key",
        "_difyops/handbook/active-colour.json",
        [
            "syncs[faq].state_key and syncs[handbook].state_key are the same colour-state object "
            "s3://handbook/_difyops/handbook/active-colour.json"
        ],
    ),
    "a_sync_name_given_twice": (
        "syncs.1",
        {**HANDBOOK, "blue_dataset_id": FAQ["dataset_id"], "green_dataset_id": CHATFLOW, "apps": []},
        ["syncs: each name must be unique; given more than once: handbook"],
    ),
    "a_sync_name_not_lowercase": ("syncs.0.name", "Hand-Book", ["syncs.0.name", "should match pattern"]),
    "sync_apps_without_the_console": ("dify.console", None, ["syncs[handbook].apps needs dify.console"]),
    "syncs_secret_variable_not_set": (
        "syncs.0.webhook_token",
        {"env": "BI_UNSET_HOOK_TOKEN"},
        ["syncs[0].webhook_token", "BI_UNSET_HOOK_TOKEN"],
    ),
}


@CELL
def test_the_complete_settings_file_loads(tmp_path):
    path = tmp_path / "difyops.yaml"
    path.write_text(yaml.safe_dump(full_config()))
    settings = load_settings({"DIFYOPS_CONFIG": str(path), **SECRET_ENV})
    assert settings.sync and settings.video and settings.workflows and settings.reports
    assert [sync.name for sync in settings.syncs] == ["handbook", "faq"]
    assert settings.notify.channels == ["email", "slack"]
    assert MARK not in repr(settings)


@CELL
@pytest.mark.parametrize("case", sorted(SETTINGS_CASES))
def test_a_bad_setting_fails_the_load_naming_the_setting(case, tmp_path):
    path, value, fragments = SETTINGS_CASES[case]
    error = str(_load(tmp_path, _set(full_config(), path, value)))
    for fragment in fragments:
        assert fragment in error, error
    assert str(tmp_path / "difyops.yaml") in error  # which file
    assert MARK not in error  # never a secret, not even one written where a reference belongs


@CELL
def test_a_settings_file_that_is_a_list_names_the_file(tmp_path):
    error = str(_load(tmp_path, [full_config()]))
    assert "DIFYOPS_CONFIG" in error and "must hold a mapping" in error and str(tmp_path) in error


@CELL
@pytest.mark.slow
def test_dg_check_defs_fails_on_an_unknown_setting_naming_it(tmp_path):
    path = tmp_path / "difyops.yaml"
    path.write_text(yaml.safe_dump(_set(full_config(), "sync.bukcet", "docs")))
    env = {**os.environ, **SECRET_ENV, "DIFYOPS_CONFIG": str(path), "DAGSTER_HOME": str(tmp_path)}
    dg_cli = Path(sys.executable).with_name("dg")
    done = subprocess.run(
        [str(dg_cli), "check", "defs"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "sync.bukcet" in done.stdout + done.stderr
    assert MARK not in done.stdout + done.stderr


# --- the S3 -> Dify sync ------------------------------------------------------------------------------------------


@pytest.fixture
def world(standin, s3_server, s3_client, bucket, monkeypatch, tmp_path):
    with open_world(standin, s3_client, bucket, monkeypatch, tmp_path, endpoint_url=s3_server.endpoint_url) as world:
        yield world


def _snapshot(world: SyncWorld) -> dict:
    """Everything a failed run must leave as it was: both datasets' documents and the colour state object."""
    try:
        state = world.s3.get_object(Bucket=world.bucket, Key=STATE_KEY)["Body"].read()
    except world.s3.exceptions.NoSuchKey:
        state = None
    docs = {
        ds: sorted((d["id"], d["name"], json.dumps(d["metadata"], sort_keys=True)) for d in world.documents(ds))
        for ds in (world.blue, world.green)
    }
    return {"state": state, "documents": docs}


def _promoted(world: SyncWorld, files: int = 3) -> dict:
    """A bucket of `files` Markdown files synced and promoted to blue; returns the snapshot to compare against."""
    for i in range(files):
        world.put(f"docs/f{i}.md", f"# file {i}")
    assert world.run().success and world.active() == "blue"
    return _snapshot(world)


def _run_failure(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "the run was expected to fail a step"
    texts = []
    for event in failures:
        error = event.event_specific_data.error
        while error is not None:
            texts.append(error.message)
            error = error.cause
    return "\n".join(texts)


def _failed_check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == name and not c.passed]
    return check


@CELL
def test_a_dataset_id_that_does_not_exist_is_named_and_the_active_dataset_is_untouched(world):
    before = _promoted(world)
    world.put("docs/new.md", "# new")  # something to sync, so the run reads the standby
    missing = str(uuid.uuid4())
    world.overrides = {"green_dataset_id": missing}
    result = world.run()
    assert not result.success
    message = _run_failure(result)
    assert missing in message and "404" in message
    assert _snapshot(world) == before


@CELL
def test_a_wrong_dataset_key_is_named_by_its_variable_and_never_shown(world, monkeypatch):
    before = _promoted(world)
    world.put("docs/new.md", "# new")  # something to sync, so the run talks to Dify
    wrong = f"dataset-{MARK}-wrong"
    monkeypatch.setenv(KEY_VAR, wrong)
    result = world.run()
    assert not result.success
    message = _run_failure(result)
    assert "401" in message and "dify.dataset_api_key" in message, message
    assert MARK not in message and MARK not in repr(result.all_events)
    assert _snapshot(world) == before


@CELL
def test_a_bucket_that_does_not_exist_is_named_and_no_dataset_is_touched(world):
    before = _promoted(world)
    world.overrides = {"bucket": "no-such-bucket-bi"}
    result = world.run()
    assert not result.success
    message = _run_failure(result)
    assert "no-such-bucket-bi" in message and "NoSuchBucket" in message, message
    assert "the bucket does not exist (sync.bucket)" in message, message
    assert _snapshot(world) == before


@CELL
def test_a_named_syncs_missing_bucket_is_named_by_its_section_and_the_other_sync_still_syncs(world):
    before = _promoted(world)
    world.put("docs/new.md", "# new")
    blue, green = new_pair(world.standin)
    config = world.config()
    config["syncs"] = [{"name": "handbook", "bucket": "no-such-bucket-bi", "blue_dataset_id": blue,
                        "green_dataset_id": green}]  # fmt: skip
    defs = build_definitions(parse_settings(config, world.env))
    failed = defs.resolve_job_def("sync_handbook_job").execute_in_process(instance=world.instance, raise_on_error=False)
    assert not failed.success
    message = _run_failure(failed)
    assert "no-such-bucket-bi" in message and "the bucket does not exist (syncs[handbook].bucket)" in message, message
    assert world.documents(blue) == [] and world.documents(green) == []
    assert _snapshot(world) == before
    assert defs.resolve_job_def("sync_job").execute_in_process(instance=world.instance).success
    assert world.active() == "green" and "docs/new.md" in world.keys_in(world.green)


@CELL
@pytest.mark.slow
def test_an_unreachable_s3_endpoint_is_named_and_no_dataset_is_touched(world):
    before = _promoted(world)
    closed = f"http://127.0.0.1:{free_port()}"
    world.env["S3_ENDPOINT_URL"] = closed
    result = world.run()
    assert not result.success
    message = _run_failure(result)
    assert closed in message and "(s3.endpoint_url)" in message and "sync.bucket" not in message, message
    assert _snapshot(world) == before


@CELL
def test_an_emptied_bucket_never_empties_a_dataset(world):
    before = _promoted(world)
    for i in range(3):
        world.delete(f"docs/f{i}.md")
    result = world.run()
    assert not result.success
    check = _failed_check(result, "deletions_within_limit")
    assert check.asset_key.to_user_string() == "sync_plan_green"
    assert "the listing is empty" in check.description
    assert _snapshot(world) == before


@CELL
def test_a_plan_deleting_more_than_the_configured_ratio_is_refused_until_the_ratio_allows_it(world):
    for i in range(4):
        world.put(f"docs/f{i}.md", f"# file {i}")
    assert world.run().success  # blue
    world.put("docs/f3.md", "# file 3, edited")  # a change, so the next run syncs green
    assert world.run().success and world.active() == "green"
    for i in range(3):
        world.delete(f"docs/f{i}.md")
    before = _snapshot(world)

    refused = world.run()
    assert not refused.success
    check = _failed_check(refused, "deletions_within_limit")
    assert check.asset_key.to_user_string() == "sync_plan_blue"
    assert "deletes 3 of 4 documents (75% > 50%)" in check.description
    assert _snapshot(world) == before

    allowed = world.run(max_delete_ratio=0.8)
    assert allowed.success and world.active() == "blue"
    assert world.keys_in(world.blue) == ["docs/f3.md"]
    assert world.keys_in(world.green) == [f"docs/f{i}.md" for i in range(4)]  # the previous colour keeps its files


def _rejections(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    listing = result.asset_materializations_for_node("s3_objects")[0].metadata
    return {r.data["key"]: r.data["reason"] for r in listing["rejected_objects"].value.records}


@CELL
def test_keys_with_control_characters_are_rejected_by_name_and_the_rest_is_synced(world):
    bad = ["docs/bell\x07.md", "docs/tab\tname.md", "docs/del\x7f.txt"]
    for key in bad:
        world.put(key, "control characters")
    world.put("docs/good.md", "# good")
    result = world.run()
    assert result.success and world.active() == "blue"
    reasons = _rejections(result)
    assert set(reasons) == set(bad)
    assert all("control characters" in reason for reason in reasons.values())
    assert world.keys_in(world.blue) == ["docs/good.md"]


@CELL
def test_a_key_of_1000_characters_is_synced_under_a_dify_sized_name(world):
    long_key = "docs/" + "k" * 992 + ".md"
    assert len(long_key) == 1000
    world.put(long_key, "# long")
    world.put("docs/short.md", "# short")
    result = world.run()
    assert result.success
    (doc,) = [d for d in world.documents(world.blue) if d["metadata"]["source_key"] == long_key]
    assert len(doc["name"]) <= 200 and doc["name"].endswith(".md")
    assert world.keys_in(world.blue) == sorted([long_key, "docs/short.md"])


@CELL
def test_files_without_an_extension_are_rejected_by_name_and_the_rest_is_synced(world):
    for key in ("docs/README", "docs/Makefile", "docs/.hidden"):
        world.put(key, "no extension")
    world.put("docs/notes.txt", "notes")
    result = world.run()
    assert result.success and world.active() == "blue"
    reasons = _rejections(result)
    assert reasons == dict.fromkeys(
        ["docs/README", "docs/Makefile", "docs/.hidden"], "type not supported: no file extension"
    )
    assert world.keys_in(world.blue) == ["docs/notes.txt"]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@CELL
def test_a_png_named_pdf_is_reported_by_key_and_never_promoted(world):
    before = _promoted(world)
    # Dify accepts the upload by its extension and its PDF extractor then fails: the document ends in `error`.
    # The stand-in does not parse PDFs, so it is told which name fails to index, as Dify would.
    world.standin.admin.set_indexing(error_names=r"scan\.pdf$")
    world.put("docs/scan.pdf", PNG)
    world.put("docs/f3.md", "# a good new file")
    result = world.run()
    assert not result.success
    check = _failed_check(result, "no_error_documents")
    assert "docs/scan.pdf" in check.description
    assert world.active() == "blue"  # the colour holding the bad file does not serve
    assert _snapshot(world)["documents"][world.blue] == before["documents"][world.blue]
    assert "docs/f3.md" in world.keys_in(world.green)  # the good file went through


def _put_state(world: SyncWorld, body: dict) -> bytes:
    raw = json.dumps(body).encode()
    world.s3.put_object(Bucket=world.bucket, Key=STATE_KEY, Body=raw)
    return raw


@CELL
def test_a_rollback_to_an_unknown_colour_is_refused_naming_the_colour_and_the_state_object(world):
    before = _promoted(world)
    raw = _put_state(world, {"active": "purple", "history": []})
    result = world.rollback()
    assert not result.success
    message = _run_failure(result)
    assert "'purple'" in message and f"s3://{world.bucket}/{STATE_KEY}" in message, message
    assert world.s3.get_object(Bucket=world.bucket, Key=STATE_KEY)["Body"].read() == raw
    assert _snapshot(world)["documents"] == before["documents"]


@CELL
def test_a_sync_over_an_unknown_colour_writes_no_dataset(world):
    before = _promoted(world)
    _put_state(world, {"active": "purple", "history": []})
    world.put("docs/new.md", "# new")
    world.standin.admin.clear_request_log()
    result = world.run()
    assert not result.success
    assert "'purple'" in _run_failure(result)
    assert world.writes() == []
    assert _snapshot(world)["documents"] == before["documents"]


@CELL
def test_a_rollback_asked_for_a_colour_is_refused_by_its_config_naming_the_field(world):
    before = _promoted(world)
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        world.rollback(colour="purple")
    assert 'unexpected config entry "colour"' in str(info.value)
    assert _snapshot(world) == before


@CELL
def test_a_promotion_webhook_answering_500_is_reported_and_the_promotion_stands(world, monkeypatch):
    monkeypatch.setenv("BI_HOOK_TOKEN", SECRET_ENV["BI_HOOK_TOKEN"])
    world.env["BI_HOOK_TOKEN"] = SECRET_ENV["BI_HOOK_TOKEN"]
    world.put("docs/a.md", "# a")
    with WebhookReceiver(status=500) as hook:
        result = world.run(webhook_url=hook.url, webhook_token={"env": "BI_HOOK_TOKEN"})
    assert result.success and world.active() == "blue"
    check = _failed_check(result, "webhook_delivered")
    assert "HTTP 500" in check.description
    assert hook.requests, "the webhook was called"
    assert MARK not in repr(result.all_events)


# --- workflow runs ------------------------------------------------------------------------------------------------

NUMBER_FORM = [
    {"number": {"label": "Count", "variable": "count", "required": True}},
    {"paragraph": {"label": "Text", "variable": "text", "required": False}},
]


@pytest.fixture
def apps(standin, monkeypatch) -> dict:
    """`counter` takes a number; `summarize` a text. Both answer at once."""
    standin.admin.create_app(
        "counter", APP_ENV["SLOW_KEY"], workflow={"outputs": {"n": "{{count}}"}}, user_input_form=NUMBER_FORM
    )
    form = [{"paragraph": {"label": "Text", "variable": "text", "required": True}}]
    standin.admin.create_app(
        "summarize", APP_ENV["SUMMARIZE_KEY"], workflow={"outputs": {"s": "{{text}}"}}, user_input_form=form
    )
    for name, value in APP_ENV.items():
        monkeypatch.setenv(name, value)
    return {
        "dify": {"base_url": standin.api_url, "max_retries": 0, "backoff_factor_s": 0.01, "rate_limit_per_second": 0},
        "workflows": {
            "apps": [
                {"name": "counter", "api_key": {"env": "SLOW_KEY"}, "inputs": {"count": 3}, "retry_wait_s": 0.05},
                {
                    "name": "summarize",
                    "api_key": {"env": "SUMMARIZE_KEY"},
                    "inputs": {"text": "t"},
                    "retry_wait_s": 0.05,
                },
            ]
        },
    }


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@CELL
def test_a_workflow_input_of_the_wrong_type_is_named_before_dify_runs_anything(apps, standin, instance):
    result = materialize(apps, "counter", {"count": "seven"}, instance=instance)
    assert not result.success
    message = failure_message(result)
    assert "workflow app 'counter'" in message and "input 'count' must be a number, got 'seven'" in message
    assert standin.admin.state()["runs"] == []


@CELL
def test_one_app_with_bad_inputs_is_reported_and_the_other_apps_still_run(apps, standin, instance):
    data = with_app(apps, "counter", inputs={"count": [1, 2]})
    job = definitions(data).resolve_job_def("run_workflow_apps")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    assert "workflow app 'counter'" in failure_message(result) and "'count'" in failure_message(result)
    (run,) = standin.admin.state()["runs"]
    assert run["status"] == "succeeded" and run["inputs"] == {"text": "t"}
    assert result.asset_materializations_for_node("workflow_run_summarize")


@CELL
def test_a_wrong_app_key_is_named_by_its_variable_and_never_shown(apps, standin, instance, monkeypatch):
    monkeypatch.setenv("SUMMARIZE_KEY", f"app-{MARK}-wrong")
    wrong_env = {**APP_ENV, "SUMMARIZE_KEY": f"app-{MARK}-wrong"}
    job = (
        build_definitions(parse_settings(apps, wrong_env))
        .resolve_implicit_global_asset_job_def()
        .get_subset(asset_selection={dg.AssetKey("workflow_run_summarize")})
    )
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    message = failure_message(result)
    assert "workflow app 'summarize'" in message and "401" in message and "$SUMMARIZE_KEY" in message
    assert MARK not in repr(result.all_events)
    assert standin.admin.state()["runs"] == []


# --- notifications ------------------------------------------------------------------------------------------------


@pytest.fixture
def chat(webhook_server):  # noqa: F811 (the shared receivers process)
    """The Slack / DingTalk / WeCom receivers, with nothing received yet."""
    webhook_server.clear()
    return webhook_server


def _notifier(notify: dict, env: dict):
    resource = build_notify_defs(settings_with(notify, env)).resources["notifier"]
    return resource.process_config_and_initialize()


@CELL
def test_a_closed_smtp_port_is_reported_by_host_and_port_and_slack_still_delivers(chat, monkeypatch):
    closed = free_port()
    env = {"REPORT_APP_KEY": "app-reportsAppKey0123456789", "BI_SMTP_PASSWORD": SECRET_ENV["BI_SMTP_PASSWORD"],
           "SLACK_WEBHOOK_URL": chat.slack_url}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    notify = {
        "email": {
            "host": "127.0.0.1",
            "port": closed,
            "username": SMTP_USER,
            "password": {"env": "BI_SMTP_PASSWORD"},
            "sender": SMTP_USER,
            "recipients": ["team@example.com"],
            "timeout_s": 5,
        },
        "slack": {"webhook_url": {"env": "SLACK_WEBHOOK_URL"}},
    }
    deliveries = {d.channel: d for d in _notifier(notify, env).send(Notification("Daily report", ("Runs: 5",)))}
    assert not deliveries["email"].ok
    assert "127.0.0.1" in deliveries["email"].detail and str(closed) in deliveries["email"].detail
    assert MARK not in deliveries["email"].detail
    assert deliveries["slack"].ok and len(chat.received("slack")) == 1


@CELL
def test_a_webhook_answering_500_is_reported_by_channel_and_status_and_wecom_still_delivers(chat, monkeypatch):
    with WebhookReceiver(status=500) as broken:
        env = {"REPORT_APP_KEY": "app-reportsAppKey0123456789", "SLACK_WEBHOOK_URL": broken.url + f"/{MARK}",
               "WECOM_WEBHOOK_URL": chat.wecom_url}  # fmt: skip
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        notify = {
            "slack": {"webhook_url": {"env": "SLACK_WEBHOOK_URL"}},
            "wecom": {"webhook_url": {"env": "WECOM_WEBHOOK_URL"}},
        }
        deliveries = {d.channel: d for d in _notifier(notify, env).send(Notification("Daily report", ("Runs: 5",)))}
        assert broken.requests
    assert not deliveries["slack"].ok and "500" in deliveries["slack"].detail
    assert MARK not in deliveries["slack"].detail
    assert deliveries["wecom"].ok and len(chat.received("wecom")) == 1


# --- videos -------------------------------------------------------------------------------------------------------


@pytest.fixture
def video_world(standin, clip_file, tmp_path, monkeypatch):
    from difyops_dagster_tests.video.conftest import KEY_VAR as VIDEO_KEY_VAR
    from difyops_dagster_tests.video.conftest import VideoWorld
    from difyops_dagster_tests.video.sample_site import MediaSite

    site = MediaSite(tmp_path / "site", clip_file)
    monkeypatch.setenv(VIDEO_KEY_VAR, standin.dataset_key)
    dataset_id = standin.admin.create_dataset("videos")["id"]
    try:
        with dg.instance_for_test() as instance:
            yield VideoWorld(
                standin, site, dataset_id, {VIDEO_KEY_VAR: standin.dataset_key}, str(tmp_path / "a"), instance
            )
    finally:
        site.close()


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    from difyops_dagster_tests.video.sample_site import make_clip

    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4")


@CELL
@pytest.mark.slow
def test_a_video_url_that_404s_is_named_and_the_other_videos_still_reach_the_dataset(video_world):
    from difyops_dagster_tests.video.sample_site import publish_three_videos

    world = video_world
    videos = publish_three_videos(world.site)
    world.sources = [{"name": "team", "url": videos.feed}]
    defs = world.defs()
    result, _ = world.tick(defs)
    keys = {r.partition_key.split(":")[0]: r.partition_key for r in result.run_requests}
    assert world.run_video(defs, keys["localtube"]).success
    assert world.sync(defs).success
    before = world.documents()

    (world.site.root / "walkthrough.html").unlink()  # the page is gone: 404
    gone = world.run_video(defs, keys["html5mediaembed"])
    assert not gone.success
    message = _run_failure(gone)
    assert "404" in message and videos.manual in message, message

    assert world.sync(defs).success
    assert world.documents() == before  # the good video's document is untouched, nothing half-made was added


# --- reports ------------------------------------------------------------------------------------------------------


@CELL
def test_a_report_window_with_no_runs_is_an_empty_report_and_other_days_stay(standin, tmp_path, monkeypatch):
    from difyops_dagster_tests.reports.scenario import materialize as materialize_reports
    from difyops_dagster_tests.reports.scenario import read_json

    app = standin.admin.create_app("support", "app-support-bot-key-0001")
    standin.admin.seed_logs(app["id"], [_row("r1", "2026-10-07T10:00:00+08:00")])
    env = {"BOT_KEY": "app-support-bot-key-0001"}
    monkeypatch.setenv("BOT_KEY", env["BOT_KEY"])
    data = {
        "dify": {"base_url": standin.api_url, "rate_limit_per_second": 0, "max_retries": 0},
        "storage": {"kind": "local", "local_dir": str(tmp_path)},
        "reports": {
            "apps": [{"name": "support_bot", "api_key": {"env": "BOT_KEY"}}],
            "timezone": "Asia/Shanghai",
            "start_date": "2026-10-01",
            "node_executions": False,
        },
    }
    settings = parse_settings(data, env)
    assets = ["workflow_logs", "workflow_report_daily"]
    with dg.instance_for_test() as instance:
        assert materialize_reports(settings, assets, instance, partition_key="2026-10-07").success
        kept = read_json(tmp_path, "daily", "2026-10-07")
        result = materialize_reports(settings, assets, instance, partition_key="2026-10-08")
    assert result.success
    empty = read_json(tmp_path, "daily", "2026-10-08")
    assert empty["summary"]["totals"]["runs"] == 0
    assert read_json(tmp_path, "daily", "2026-10-07") == kept and kept["summary"]["totals"]["runs"] == 1


def _row(run_id: str, at: str) -> dict:
    from datetime import datetime

    from difyops_dagster_tests.reports.samples import seeded_row

    return seeded_row(run_id, int(datetime.fromisoformat(at).timestamp()))
