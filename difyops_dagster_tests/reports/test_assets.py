"""The report assets end to end against the stand-in seeded with a month of realistic runs in Asia/Shanghai,
including runs at 23:59:59 and 00:00:00 local and at UTC midnight: each day's report counts exactly that
local day's runs, a week is exactly the sum of its seven days, a ranged backfill equals day-by-day runs, a
re-run gives the same report, files land in the local folder and in S3 under names that carry app, window
and format, and one app that Dify refuses is reported while the others proceed."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from difyops_dagster_tests.reports.samples import at, seeded_row
from difyops_dagster_tests.reports.scenario import EXPECTED, WEEK_DAYS, day_range, make_settings, materialize, read_json


def test_each_days_report_counts_exactly_that_local_days_runs(standin, month, report_env, tmp_path):
    settings = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(tmp_path)}, report_env)
    with dg.instance_for_test() as instance:
        result = materialize(settings, ["workflow_logs", "workflow_report_daily"], instance,
                             tags=day_range(WEEK_DAYS[0], WEEK_DAYS[-1]))  # fmt: skip
        assert result.success
    for day in WEEK_DAYS:
        document = read_json(tmp_path, "daily", day)
        assert document["summary"]["totals"]["runs"] == EXPECTED[day], day
        run_ids = {run["run_id"] for run in document["runs"]}
        number = int(day[-2:])
        assert f"edge-{number}-last" in run_ids and f"edge-{number}-utc" in run_ids  # 23:59:59 and 08:00 local
        assert (f"edge-{number}-first" in run_ids) == (number > 5)  # 00:00:00 local, seeded from the 6th on
        assert f"edge-{number + 1}-first" not in run_ids  # the next midnight belongs to the next day
        assert all(run["created_at"].startswith(day) for run in document["runs"])
        for fmt in ("csv", "md", "png"):
            assert (tmp_path / "reports" / "daily" / "support_bot" / f"support_bot_daily_{day}.{fmt}").is_file()


def test_a_week_is_exactly_the_sum_of_its_seven_days(standin, month, report_env, tmp_path):
    settings = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(tmp_path)}, report_env)
    with dg.instance_for_test() as instance:
        assert materialize(settings, ["workflow_logs", "workflow_report_daily"], instance,
                           tags=day_range(WEEK_DAYS[0], WEEK_DAYS[-1])).success  # fmt: skip
        weekly = materialize(settings, ["workflow_report_weekly"], instance, partition_key="2026-10-05")
        assert weekly.success
    week = read_json(tmp_path, "weekly", "2026-10-05_2026-10-11")["summary"]
    days = [read_json(tmp_path, "daily", day)["summary"]["totals"] for day in WEEK_DAYS]
    for measure in ("runs", "total_tokens", "cost_runs"):
        assert week["totals"][measure] == sum(d[measure] for d in days), measure
    assert week["totals"]["statuses"]["failed"] == sum(d["statuses"].get("failed", 0) for d in days)
    assert week["totals"]["cost"] == pytest.approx(sum(d["cost"] for d in days))
    assert [b["runs"] for b in week["trend"]] == [d["runs"] for d in days]
    assert week["totals"]["runs"] == sum(EXPECTED[d] for d in WEEK_DAYS)


def test_ranged_backfill_and_day_by_day_runs_give_the_same_reports_and_reruns_do_too(
    standin, month, report_env, tmp_path
):
    ranged_dir, single_dir = tmp_path / "ranged", tmp_path / "single"
    ranged = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(ranged_dir)}, report_env)
    single = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(single_dir)}, report_env)
    days = ["2026-10-20", "2026-10-21"]
    with dg.instance_for_test() as instance:
        assert materialize(ranged, ["workflow_logs", "workflow_report_daily"], instance,
                           tags=day_range(*days)).success  # fmt: skip
        for day in days:
            assert materialize(single, ["workflow_logs", "workflow_report_daily"], instance, partition_key=day).success
        first = read_json(single_dir, "daily", days[0])
        standin.admin.seed_logs(month["id"], [seeded_row("late-arrival", at(22, 12, month=10))])
        assert materialize(single, ["workflow_logs", "workflow_report_daily"], instance, partition_key=days[0]).success
    for day in days:
        assert read_json(ranged_dir, "daily", day) == read_json(single_dir, "daily", day)
    assert read_json(single_dir, "daily", days[0]) == first


def test_reports_land_in_the_s3_bucket_with_their_names(standin, month, report_env, s3_server, bucket, s3_client,
                                                         monkeypatch):  # fmt: skip
    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "S3_ENDPOINT": s3_server.endpoint_url,
    }.items():
        monkeypatch.setenv(key, value)
        report_env[key] = value
    storage = {"kind": "s3", "bucket": bucket, "prefix": "ops/"}
    settings = make_settings(standin, month["id"], storage, report_env)
    with dg.instance_for_test() as instance:
        result = materialize(settings, ["workflow_logs", "workflow_report_daily"], instance, partition_key="2026-10-06")
        assert result.success
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]}
    for fmt in ("csv", "md", "json", "png"):
        assert f"ops/reports/daily/support_bot/support_bot_daily_2026-10-06.{fmt}" in keys
    assert "ops/reports/logs/support_bot/support_bot_logs_2026-10-06.jsonl" in keys
    body = s3_client.get_object(Bucket=bucket, Key="ops/reports/daily/support_bot/support_bot_daily_2026-10-06.json")
    assert json.loads(body["Body"].read())["summary"]["totals"]["runs"] == EXPECTED["2026-10-06"]
    report = next(e for e in result.get_asset_materialization_events() if e.asset_key.path == ["workflow_report_daily"])
    assert f"s3://{bucket}/ops/reports/daily/support_bot/support_bot_daily_2026-10-06.md" in (
        report.materialization.metadata["files"].value
    )


def test_an_app_dify_refuses_is_reported_and_the_other_apps_still_get_their_reports(
    standin, month, report_env, tmp_path
):
    apps = [
        {"name": "support_bot", "api_key": {"env": "BOT_KEY"}, "app_id": month["id"]},
        {"name": "retired_bot", "api_key": {"env": "OTHER_KEY"}},
    ]
    settings = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(tmp_path)}, report_env, apps=apps)
    with dg.instance_for_test() as instance:
        result = materialize(settings, ["workflow_logs", "workflow_report_daily"], instance, partition_key="2026-10-07")
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed
    assert (
        "retired_bot 2026-10-07" in check.metadata["unavailable"].value and "401" in check.metadata["unavailable"].value
    )
    report = next(e for e in result.get_asset_materialization_events() if e.asset_key.path == ["workflow_report_daily"])
    metadata = report.materialization.metadata
    assert metadata["apps_unavailable"].value == 1
    assert "retired_bot 2026-10-07: logs unavailable" in metadata["summary"].value
    assert read_json(tmp_path, "daily", "2026-10-07")["summary"]["totals"]["runs"] == EXPECTED["2026-10-07"]
    assert not (tmp_path / "reports" / "daily" / "retired_bot").exists()
    assert "app-not-known-to-dify-01" not in repr(result.all_events)


def test_a_weekly_report_without_its_days_fails_naming_the_missing_days(standin, month, report_env, tmp_path):
    settings = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(tmp_path)}, report_env)
    with dg.instance_for_test() as instance:
        assert materialize(settings, ["workflow_logs"], instance, partition_key="2026-10-05").success
        result = materialize(settings, ["workflow_report_weekly"], instance, partition_key="2026-10-05",
                             raise_on_error=False)  # fmt: skip
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error.message
    assert "workflow_logs has not been materialized for 2026-10-06 (support_bot)" in failure
    assert "2026-10-05" not in failure.split("for", 1)[1].split(";")[0]


def test_console_problems_show_in_the_report_and_the_rest_of_it_still_builds(standin, month, report_env, tmp_path):
    settings = make_settings(standin, month["id"], {"kind": "local", "local_dir": str(tmp_path)}, report_env,
                             console="WRONG_CONSOLE_PASSWORD")  # fmt: skip
    with dg.instance_for_test() as instance:
        assert materialize(settings, ["workflow_logs", "workflow_report_daily"], instance,
                           partition_key="2026-10-08").success  # fmt: skip
    summary = read_json(tmp_path, "daily", "2026-10-08")["summary"]
    assert summary["totals"]["runs"] == EXPECTED["2026-10-08"] and summary["totals"]["cost"] is None
    (note,) = summary["notes"]
    assert note.startswith("cost unavailable: console Dify POST /login failed (HTTP 401")
    assert "Invalid email or password." in note and "not-the-console-password" not in note
    markdown = (tmp_path / "reports" / "daily" / "support_bot" / "support_bot_daily_2026-10-08.md").read_text()
    assert "| cost | n/a (node executions not fetched; see notes) |" in markdown
    assert "- cost unavailable: console" in markdown
