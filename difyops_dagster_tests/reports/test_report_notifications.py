"""After each report, every configured channel gets its headline numbers and a link to the Markdown file; a
channel that refuses the message is listed in the asset's metadata and logged, and the report still succeeds;
backfill runs stay quiet unless asked; an app whose logs were unavailable is announced as such; retention
removes the feature's old files in the same run."""

from __future__ import annotations

import os
import time

import dagster as dg
import pytest

from difyops_dagster_tests.reports.scenario import EXPECTED, make_settings, materialize

DAY = "2026-10-09"


@pytest.fixture
def channels(report_env, webhooks, monkeypatch) -> dict:
    env = {
        "SLACK_URL": webhooks.slack_url,
        "DINGTALK_URL": webhooks.dingtalk_url,
        "DINGTALK_SECRET": "SECdingtalk-signing-secret-local-456",
        "WECOM_URL": webhooks.wecom_url.replace("wecom-key-local-789", "revoked-key"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    report_env.update(env)
    return {
        "slack": {"webhook_url": {"env": "SLACK_URL"}},
        "dingtalk": {"webhook_url": {"env": "DINGTALK_URL"}, "secret": {"env": "DINGTALK_SECRET"}},
        "wecom": {"webhook_url": {"env": "WECOM_URL"}},
    }


def report_event(result) -> dg.AssetMaterialization:
    return next(
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[-1].startswith("workflow_report")
    )


def test_each_report_is_announced_and_a_refusing_channel_does_not_fail_it(
    standin, month, report_env, channels, webhooks, tmp_path
):
    settings = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(tmp_path)}, report_env,
                             notify=channels, link_base_url="https://files.example.com/")  # fmt: skip
    with dg.instance_for_test() as instance:
        result = materialize(settings, ["workflow_logs", "workflow_report_daily"], instance, partition_key=DAY)
    assert result.success
    metadata = report_event(result).metadata
    assert metadata["notifications_failed"].value == 1
    assert "| wecom | NO | 127.0.0.1 refused the message: HTTP 200, errcode 93000" in metadata["notifications"].value
    assert "revoked-key" not in metadata["notifications"].value
    (slack,) = webhooks.received("slack")
    text = slack["body"]["text"]
    assert f"Workflow report support_bot daily {DAY} (Asia/Shanghai)" in text
    assert f"Runs: {EXPECTED[DAY]} (failed" in text
    link = f"https://files.example.com/reports/daily/support_bot/support_bot_daily_{DAY}.md"
    assert link in text
    (dingtalk,) = webhooks.received("dingtalk")
    assert f"]({link})" in dingtalk["body"]["markdown"]["text"]
    assert webhooks.received("wecom") == []


def test_backfill_runs_are_quiet_unless_configured(standin, month, report_env, channels, webhooks, tmp_path):
    backfill = {"dagster/backfill": "bf-1"}
    quiet = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(tmp_path)}, report_env,
                          notify=channels)  # fmt: skip
    loud = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(tmp_path)}, report_env,
                         notify=channels, notify_backfills=True)  # fmt: skip
    with dg.instance_for_test() as instance:
        result = materialize(
            quiet, ["workflow_logs", "workflow_report_daily"], instance, partition_key=DAY, tags=backfill
        )
        assert report_event(result).metadata["notifications"].value == "skipped: backfill run"
        assert webhooks.received() == []
        materialize(loud, ["workflow_logs", "workflow_report_daily"], instance, partition_key=DAY, tags=backfill)
    assert {m["service"] for m in webhooks.received()} == {"slack", "dingtalk"}


def test_an_app_without_logs_is_announced_as_unavailable(standin, month, report_env, channels, webhooks, tmp_path):
    apps = [{"name": "retired_bot", "api_key": {"env": "OTHER_KEY"}}]
    settings = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(tmp_path)}, report_env,
                             apps=apps, notify=channels)  # fmt: skip
    with dg.instance_for_test() as instance:
        assert materialize(settings, ["workflow_logs", "workflow_report_daily"], instance, partition_key=DAY).success
    (slack,) = webhooks.received("slack")
    assert f"Workflow report retired_bot daily {DAY}: logs unavailable" in slack["body"]["text"]
    assert "HTTP 401" in slack["body"]["text"] and "app-not-known-to-dify-01" not in slack["body"]["text"]


def test_retention_removes_old_report_files_in_the_same_run(standin, month, report_env, tmp_path):
    old = tmp_path / "reports" / "daily" / "support_bot" / "support_bot_daily_2026-01-01.md"
    old.parent.mkdir(parents=True)
    old.write_text("old")
    stale = time.time() - 100 * 86400
    os.utime(old, (stale, stale))
    settings = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(tmp_path)}, report_env,
                             retention_days=30)  # fmt: skip
    with dg.instance_for_test() as instance:
        result = materialize(settings, ["workflow_logs", "workflow_report_daily"], instance, partition_key=DAY)
    assert report_event(result).metadata["retention_deleted"].value == 1
    assert not old.exists()
    assert (tmp_path / "reports" / "daily" / "support_bot" / f"support_bot_daily_{DAY}.md").exists()
