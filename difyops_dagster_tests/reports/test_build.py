"""The report is a pure function of the window and its rows: each run belongs to exactly one day (Dify's
bounds are inclusive, ours half-open), the seed's measures (users, sessions, token speed, cost) are defined
precisely, and the ones it lacked (success rate, failures by error, latency percentiles, versions, slowest
runs, trend) come out as literal numbers a person can check by hand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from difyops_dagster.reports.build import ReportWindow, build_report
from difyops_dagster.reports.rows import in_window
from difyops_dagster_tests.reports.samples import DAY, SHANGHAI, WEEK, at, make_row


def test_a_run_at_midnight_belongs_to_the_day_it_starts_not_the_day_before():
    midnight = at(4, 0)
    assert not in_window(midnight, DAY.start_ts, DAY.end_ts)
    assert in_window(midnight - 1, DAY.start_ts, DAY.end_ts)
    assert in_window(DAY.start_ts, DAY.start_ts, DAY.end_ts)


def test_rows_outside_the_window_are_refused_not_dropped():
    with pytest.raises(ValueError, match="1 row\\(s\\) of bot lie outside the window 2026-11-03"):
        build_report("bot", DAY, [make_row("a", at(3, 9)), make_row("b", at(4, 0))])


def test_counts_and_rates_by_status():
    rows = [make_row(f"s{i}", at(3, 9, i)) for i in range(6)]
    rows += [make_row("p", at(3, 10), status="partial-succeeded")]
    rows += [make_row(f"f{i}", at(3, 11, i), status="failed", error="boom") for i in range(2)]
    rows += [make_row("x", at(3, 12), status="stopped")]
    totals = build_report("bot", DAY, rows).totals
    assert totals.runs == 10
    assert totals.statuses == {"failed": 2, "partial-succeeded": 1, "stopped": 1, "succeeded": 6}
    assert totals.success_rate == 0.7  # succeeded + partial-succeeded
    assert totals.failure_rate == 0.2
    assert totals.failed == 2


def test_latency_percentiles_are_over_elapsed_time():
    rows = [make_row(f"r{i}", at(3, 9, i), elapsed_time=float(i)) for i in range(1, 21)]
    totals = build_report("bot", DAY, rows).totals
    assert (totals.latency_p50_s, totals.latency_p95_s, totals.latency_max_s) == (10.5, 19.05, 20.0)


def test_sessions_split_a_users_runs_on_gaps_longer_than_the_session_gap():
    rows = [
        make_row("a1", at(3, 9, 0), user="alice"),
        make_row("a2", at(3, 9, 20), user="alice"),  # 20 min later: same session
        make_row("a3", at(3, 10, 5), user="alice"),  # 45 min later: new session
        make_row("b1", at(3, 9, 10), user="bob"),
    ]
    report = build_report("bot", DAY, rows, session_gap_s=30 * 60)
    assert (report.totals.users, report.totals.sessions, report.totals.runs_per_session) == (2, 3, 1.333)
    alice = report.per_user.set_index("user").loc["alice"]
    assert (alice["runs"], alice["sessions"], alice["active_days"]) == (3, 2, 1)
    assert alice["first_run"] == "2026-11-03T09:00:00+08:00"


def test_token_speed_counts_only_runs_that_produced_tokens():
    rows = [
        make_row("a", at(3, 9), total_tokens=300, elapsed_time=2.0),
        make_row("b", at(3, 9, 1), total_tokens=100, elapsed_time=2.0),
        make_row("c", at(3, 9, 2), status="failed", total_tokens=0, elapsed_time=30.0),
    ]
    totals = build_report("bot", DAY, rows).totals
    assert totals.total_tokens == 400
    assert totals.tokens_per_second == 100.0


def test_cost_is_unknown_rather_than_zero_when_node_executions_were_not_fetched():
    unpriced = build_report("bot", DAY, [make_row("a", at(3, 9))], notes=["cost unavailable: no console"])
    assert unpriced.totals.cost is None and unpriced.totals.cost_runs == 0
    assert unpriced.notes == ("cost unavailable: no console",)
    priced = build_report(
        "bot",
        DAY,
        [
            make_row("a", at(3, 9), cost=0.0012, currency="USD"),
            make_row("b", at(3, 9, 1), cost=0.0003, currency="USD"),
            make_row("c", at(3, 9, 2)),
        ],
    )
    assert (priced.totals.cost, priced.totals.cost_runs, priced.totals.currency) == (0.0015, 2, "USD")


def test_failures_are_grouped_by_the_first_line_of_the_error():
    rows = [
        make_row("f1", at(3, 9), status="failed", error="Node LLM run failed: Rate limit reached\ndetail 1"),
        make_row("f2", at(3, 10), status="failed", error="Node LLM run failed: Rate limit reached\ndetail 2"),
        make_row("f3", at(3, 11), status="failed", error="Variable #query# not found"),
        make_row("f4", at(3, 12), status="failed", error=None),
        make_row("ok", at(3, 13)),
    ]
    failures = build_report("bot", DAY, rows).failures
    assert failures[["error", "runs", "share"]].values.tolist() == [
        ["Node LLM run failed: Rate limit reached", 2, 0.5],
        ["(no error message)", 1, 0.25],
        ["Variable #query# not found", 1, 0.25],
    ]
    assert failures.loc[0, "last_seen"] == "2026-11-03T10:00:00+08:00"


def test_runs_per_version_and_slowest_runs():
    rows = [make_row(f"v1-{i}", at(3, 9, i), version="v1", elapsed_time=float(i)) for i in range(12)]
    rows += [make_row("v2-0", at(3, 10), version="v2", status="failed", elapsed_time=50.0)]
    report = build_report("bot", DAY, rows)
    assert report.versions[["version", "runs", "failed", "success_rate"]].values.tolist() == [
        ["v1", 12, 0, 1.0],
        ["v2", 1, 1, 0.0],
    ]
    assert len(report.slowest) == 10
    assert report.slowest.loc[0, ["run_id", "elapsed_s", "status"]].tolist() == ["v2-0", 50.0, "failed"]
    assert report.slowest["elapsed_s"].is_monotonic_decreasing


def test_daily_trend_has_one_bucket_per_local_hour():
    rows = [make_row("a", at(3, 0, 0)), make_row("b", at(3, 23, 59, 59), status="failed")]
    trend = build_report("bot", DAY, rows).trend
    assert len(trend) == 24
    assert trend.loc[0, ["bucket", "runs"]].tolist() == ["00:00", 1]
    assert trend.loc[23, ["bucket", "runs", "failed", "failure_rate"]].tolist() == ["23:00", 1, 1, 1.0]
    assert trend["runs"].sum() == 2


def test_a_day_with_a_dst_change_has_23_hourly_buckets():
    new_york = ZoneInfo("America/New_York")
    window = ReportWindow("daily", datetime(2026, 3, 8, tzinfo=new_york), datetime(2026, 3, 9, tzinfo=new_york))
    assert len(build_report("bot", window, []).trend) == 23


def test_weekly_trend_is_day_by_day_and_adds_up_to_the_week():
    rows = [make_row(f"r{d}-{i}", at(d, 12, i)) for d in range(2, 9) for i in range(d)]
    report = build_report("bot", WEEK, rows)
    assert report.trend["bucket"].tolist()[:2] == ["2026-11-02 Mon", "2026-11-03 Tue"]
    assert report.trend["runs"].tolist() == [2, 3, 4, 5, 6, 7, 8]
    assert report.trend["runs"].sum() == report.totals.runs == 35
    assert WEEK.label == "2026-11-02_2026-11-08"


def test_an_empty_window_still_gives_a_complete_report():
    report = build_report("bot", WEEK, [])
    assert report.totals.runs == 0 and report.totals.success_rate is None and report.totals.latency_p95_s is None
    assert report.per_user.empty and report.failures.empty and report.versions.empty and report.runs.empty
    assert len(report.trend) == 7


def test_runs_table_is_newest_first_with_inputs_and_outputs_in_local_time():
    rows = [
        make_row("old", at(3, 8), inputs={"query": "你好"}, outputs={"answer": "hi"}),
        make_row("new", at(3, 9), inputs={"query": "bye"}),
    ]
    runs = build_report("bot", DAY, rows).runs
    assert runs["run_id"].tolist() == ["new", "old"]
    assert runs.loc[1, "inputs"] == {"query": "你好"} and runs.loc[1, "outputs"] == {"answer": "hi"}
    assert runs.loc[0, "created_at"] == datetime(2026, 11, 3, 9, tzinfo=SHANGHAI).isoformat()
