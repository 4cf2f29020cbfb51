"""The reports and notify settings: defaults are the seed's times (02:00 daily, Monday 03:00 weekly) in the
configured timezone; bad timezones, clock times, duplicate app names, literal secrets and a retention too
short for a week are refused at load with the setting's path; the feature is absent when its section is."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from difyops_dagster.config_model import SettingsError
from difyops_dagster.definitions import build_definitions
from difyops_dagster.reports.defs import build_defs
from difyops_dagster.settings import parse_settings

ENV = {"BOT_KEY": "app-bot-key-0123456789", "OTHER_KEY": "app-other-key-0123456789"}


def settings(reports: dict | None = None, **extra):
    data = {"dify": {"base_url": "http://127.0.0.1:9/v1"}, **extra}
    if reports is not None:
        data["reports"] = {"apps": [{"name": "bot", "api_key": {"env": "BOT_KEY"}}], "start_date": "2026-10-01",
                           **reports}  # fmt: skip
    return parse_settings(data, ENV)


def test_defaults_are_the_seeds_schedule_times_in_the_configured_timezone():
    reports = settings({"timezone": "Asia/Shanghai"}).reports
    assert (reports.clock("daily"), reports.weekly_day, reports.clock("weekly")) == ((2, 0), "monday", (3, 0))
    defs = build_definitions(settings({"timezone": "Asia/Shanghai"}))
    daily = defs.resolve_schedule_def("workflow_report_daily_schedule")
    weekly = defs.resolve_schedule_def("workflow_report_weekly_schedule")
    assert (daily.cron_schedule, daily.execution_timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert (weekly.cron_schedule, weekly.execution_timezone) == ("0 3 * * 1", "Asia/Shanghai")
    assert daily.default_status == dg.DefaultScheduleStatus.RUNNING


def test_schedule_times_are_configurable():
    defs = build_definitions(settings({"daily_at": "06:30", "weekly_day": "sunday", "weekly_at": "23:05",
                                "schedules_running": False}))  # fmt: skip
    assert defs.resolve_schedule_def("workflow_report_daily_schedule").cron_schedule == "30 6 * * *"
    weekly = defs.resolve_schedule_def("workflow_report_weekly_schedule")
    assert weekly.cron_schedule == "5 23 * * 0" and weekly.default_status == dg.DefaultScheduleStatus.STOPPED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "reports.timezone: not a known IANA timezone: 'Mars/Olympus'"),
        ({"daily_at": "2am"}, "reports.daily_at: report times must be HH:MM"),
        ({"weekly_day": "someday"}, "reports.weekly_day"),
        ({"retention_days": 3}, "retention_days must be 0 (keep all) or at least 8"),
        ({"apps": [{"name": "Bot!", "api_key": {"env": "BOT_KEY"}}]}, "reports.apps.0.name"),
        ({"apps": [{"name": "bot", "api_key": "app-literal-key"}]}, "never as a literal value"),
        (
            {
                "apps": [
                    {"name": "bot", "api_key": {"env": "BOT_KEY"}},
                    {"name": "bot", "api_key": {"env": "OTHER_KEY"}},
                ]
            },
            "reports.apps names must be unique; repeated: bot",
        ),
        ({"apps": []}, "reports.apps"),
        ({"apps": [{"name": "bot", "api_key": {"env": "MISSING_KEY"}}]}, "MISSING_KEY"),
    ],
)
def test_bad_report_settings_fail_the_load_naming_the_setting(change, message):
    with pytest.raises(SettingsError) as error:
        settings(change)
    assert message in str(error.value)
    assert "app-literal-key" not in str(error.value)


def test_the_daily_schedule_asks_for_the_day_that_just_closed_in_its_timezone():
    defs = build_definitions(settings({"timezone": "Asia/Shanghai"}))
    schedule = defs.resolve_schedule_def("workflow_report_daily_schedule")
    tick = datetime(2026, 11, 10, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def()
        )
        (request,) = schedule.evaluate_tick(context).run_requests
    assert (request.partition_key, request.run_key) == ("2026-11-09", "2026-11-09")


def test_the_weekly_schedule_asks_for_the_monday_to_sunday_week_that_just_closed():
    defs = build_definitions(settings({"timezone": "Asia/Shanghai"}))
    schedule = defs.resolve_schedule_def("workflow_report_weekly_schedule")
    tick = datetime(2026, 11, 9, 3, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def()
        )
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-02"


def test_a_schedule_before_the_first_closed_day_skips_with_a_reason():
    with dg.instance_for_test() as instance:
        defs = build_definitions(settings({"timezone": "UTC", "start_date": "2026-11-01"}))
        schedule = defs.resolve_schedule_def("workflow_report_daily_schedule")
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 11, 1, 2, tzinfo=ZoneInfo("UTC"))
        )
        result = schedule.evaluate_tick(context)
    assert not result.run_requests and "no day has closed" in result.skip_message


def test_without_a_reports_section_the_feature_is_absent():
    defs = build_defs(settings())
    assert not list(defs.assets or []) and not list(defs.schedules or [])
