"""The report is a pure function of the window and its rows: each run belongs to exactly one day (Dify's
bounds are inclusive, ours half-open), the seed's measures (users, sessions, token speed, cost) are defined
precisely, and the ones it lacked (success rate, failures by error and node, latency mean and percentiles, the
token split, versions, slowest runs, per-node figures, trend, week over week) come out as literal numbers a
person can check by hand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
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


def llm_row(run_id: str, created_at: int, prompt: int, completion: int, llm_s: float, **fields) -> dict:
    """A run whose node executions were fetched: Start, one LLM node taking `llm_s`, End."""
    nodes = [
        {"title": "Start", "type": "start", "status": "succeeded", "elapsed_s": 0.01, "tokens": 0, "cost": 0.0},
        {"title": "LLM", "type": "llm", "status": "succeeded", "elapsed_s": llm_s, "tokens": prompt + completion,
         "cost": 0.001},
        {"title": "End", "type": "end", "status": "succeeded", "elapsed_s": 0.01, "tokens": 0, "cost": 0.0},
    ]  # fmt: skip
    return make_row(run_id, created_at, total_tokens=prompt + completion, prompt_tokens=prompt,
                    completion_tokens=completion, llm_seconds=llm_s, nodes=3, node_runs=nodes, cost=0.001,
                    currency="USD", **fields)  # fmt: skip


def test_token_speed_is_completion_tokens_per_second_of_model_time():
    """Not total tokens over the whole run's time: prompt tokens are read, not produced, and a run spends time
    outside its model calls (retrieval, HTTP, code)."""
    rows = [
        llm_row("a", at(3, 9), prompt=900, completion=300, llm_s=2.0, elapsed_time=10.0),
        llm_row("b", at(3, 9, 1), prompt=100, completion=100, llm_s=2.0, elapsed_time=3.0),
        make_row("c", at(3, 9, 2), total_tokens=500, elapsed_time=4.0),  # node executions not fetched
    ]
    totals = build_report("bot", DAY, rows).totals
    assert totals.total_tokens == 1900  # the logs' own total, over every run
    assert (totals.prompt_tokens, totals.completion_tokens, totals.split_runs) == (1000, 400, 2)
    assert totals.completion_tokens_per_second == 100.0


def test_the_token_split_is_unknown_rather_than_zero_without_node_executions():
    totals = build_report("bot", DAY, [make_row("a", at(3, 9), total_tokens=300)]).totals
    assert (totals.prompt_tokens, totals.completion_tokens, totals.completion_tokens_per_second) == (None, None, None)
    assert totals.total_tokens == 300


def test_latency_mean_and_p99_beside_the_percentiles():
    rows = [make_row(f"r{i}", at(3, 9) + i, elapsed_time=float(i)) for i in range(1, 101)]
    totals = build_report("bot", DAY, rows).totals
    assert (totals.latency_mean_s, totals.latency_p99_s, totals.latency_max_s) == (50.5, 99.01, 100.0)


def test_per_user_cost_carries_no_float_noise():
    rows = [make_row("a", at(3, 9), cost=0.0002, currency="USD"), make_row("b", at(3, 10), cost=0.000288)]
    assert 0.0002 + 0.000288 == 0.00048800000000000004  # what a plain float sum gives
    report = build_report("bot", DAY, rows)
    assert report.per_user.loc[0, "cost"] == 0.000488 and report.totals.cost == 0.000488


def test_stopped_and_partially_succeeded_runs_show_in_every_breakdown():
    rows = [
        make_row("ok", at(3, 9), version="v1"),
        make_row("partial", at(3, 9, 5), status="partial-succeeded", version="v1", exceptions_count=1),
        make_row("stopped", at(3, 9, 10), status="stopped", version="v2", user="bob"),
        make_row("failed", at(3, 10), status="failed", error="boom", version="v2", user="bob"),
    ]
    report = build_report("bot", DAY, rows)
    nine = report.trend.loc[9]
    assert (nine["runs"], nine["failed"], nine["partial"], nine["stopped"]) == (3, 0, 1, 1)
    assert report.versions[["version", "runs", "failed", "partial", "stopped"]].values.tolist() == [
        ["v1", 2, 0, 1, 0],
        ["v2", 2, 1, 0, 1],
    ]
    bob = report.per_user.set_index("user").loc["bob"]
    assert (bob["runs"], bob["failed"], bob["partial"], bob["stopped"]) == (2, 1, 0, 1)


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


def node(title: str, kind: str, status: str, elapsed: float, tokens: int = 0, cost: float = 0.0) -> dict:
    return {"title": title, "type": kind, "status": status, "elapsed_s": elapsed, "tokens": tokens, "cost": cost}


def test_the_failing_node_of_each_error_is_named():
    rows = [
        make_row(f"f{i}", at(3, 9, i), status="failed", error="Node HTTP Request run failed: timeout",
                 failing_node="HTTP Request") for i in range(3)
    ] + [make_row("g", at(3, 10), status="failed", error="quota")]  # fmt: skip
    failures = build_report("bot", DAY, rows).failures
    assert failures[["error", "node", "runs"]].values.tolist()[0] == ["Node HTTP Request run failed: timeout",
                                                                      "HTTP Request", 3]  # fmt: skip
    assert failures.loc[1, "error"] == "quota" and pd.isna(failures.loc[1, "node"])  # no node executions fetched


def test_the_node_table_gives_runs_failures_latency_tokens_and_cost_per_node():
    runs = []
    for i in range(20):
        http_failed = i < 4
        nodes = [
            node("Start", "start", "succeeded", 0.001),
            node("HTTP Request", "http-request", "failed" if http_failed else "succeeded", 0.5 + i * 0.1),
        ]
        if not http_failed:
            nodes.append(node("LLM", "llm", "succeeded", float(i), tokens=100, cost=0.0002))
        runs.append(make_row(f"r{i}", at(3, 9, i), status="failed" if http_failed else "succeeded",
                             node_runs=nodes, failing_node="HTTP Request" if http_failed else None))  # fmt: skip
    report = build_report("bot", DAY, runs)
    table = report.nodes.set_index("node")
    assert table.index.tolist() == ["LLM", "HTTP Request", "Start"]  # where the time went, most first
    llm = table.loc["LLM"]
    assert (llm["type"], llm["runs"], llm["failures"], llm["tokens"], llm["cost"]) == ("llm", 16, 0, 1600, 0.0032)
    assert (llm["p50_s"], llm["p95_s"]) == (11.5, 18.25)
    http = table.loc["HTTP Request"]
    assert (http["runs"], http["failures"], http["failure_rate"]) == (20, 4, 0.2)
    assert report.totals.slowest_node == "LLM (llm): p95 18.25 s over 16 runs"
    assert report.totals.most_failing_node == "HTTP Request (http-request): 4 of 20 failed"


def test_without_node_executions_there_is_no_node_table_and_no_highlights():
    report = build_report("bot", DAY, [make_row("a", at(3, 9))])
    assert report.nodes.empty and report.totals.slowest_node is None and report.totals.most_failing_node is None


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


NEW_YORK = ZoneInfo("America/New_York")


def test_a_day_that_skips_an_hour_labels_its_hours_with_their_utc_offset():
    window = ReportWindow("daily", datetime(2026, 3, 8, tzinfo=NEW_YORK), datetime(2026, 3, 9, tzinfo=NEW_YORK))
    buckets = build_report("bot", window, []).trend["bucket"].tolist()
    assert len(buckets) == 23
    assert buckets[:4] == ["00:00 UTC-05:00", "01:00 UTC-05:00", "03:00 UTC-04:00", "04:00 UTC-04:00"]


def test_a_day_that_repeats_an_hour_tells_its_two_one_oclocks_apart():
    window = ReportWindow("daily", datetime(2026, 11, 1, tzinfo=NEW_YORK), datetime(2026, 11, 2, tzinfo=NEW_YORK))
    first_one = int(datetime(2026, 11, 1, 5, 30, tzinfo=ZoneInfo("UTC")).timestamp())  # 01:30 EDT
    second_one = first_one + 3600  # 01:30 EST, the same wall-clock time an hour later
    trend = build_report("bot", window, [make_row("a", first_one), make_row("b", second_one, status="failed")]).trend
    assert len(trend) == 25 and trend["bucket"].is_unique
    assert trend.loc[1:2, ["bucket", "runs", "failed"]].values.tolist() == [
        ["01:00 UTC-04:00", 1, 0],
        ["01:00 UTC-05:00", 1, 1],
    ]


def test_an_ordinary_day_keeps_plain_hour_labels():
    assert build_report("bot", DAY, []).trend["bucket"].tolist()[:2] == ["00:00", "01:00"]


def test_weekly_trend_is_day_by_day_and_adds_up_to_the_week():
    rows = [make_row(f"r{d}-{i}", at(d, 12, i)) for d in range(2, 9) for i in range(d)]
    report = build_report("bot", WEEK, rows)
    assert report.trend["bucket"].tolist()[:2] == ["2026-11-02 Mon", "2026-11-03 Tue"]
    assert report.trend["runs"].tolist() == [2, 3, 4, 5, 6, 7, 8]
    assert report.trend["runs"].sum() == report.totals.runs == 35
    assert WEEK.label == "2026-11-02_2026-11-08" and WEEK.display == "2026-11-02 to 2026-11-08"


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


def test_a_week_is_compared_with_the_week_before_with_arrows():
    before = build_report("bot", WEEK, [make_row(f"b{i}", at(3, 9, i), elapsed_time=2.0, cost=0.001,
                                                 currency="USD") for i in range(10)]).totals  # fmt: skip
    rows = [make_row(f"r{i}", at(4, 9, i), elapsed_time=1.0, cost=0.001, currency="USD") for i in range(11)]
    rows += [make_row("f", at(4, 10), status="failed", error="x", elapsed_time=1.0, total_tokens=0)]
    comparison = build_report("bot", WEEK, rows, week_before=before).comparison
    assert comparison.values.tolist() == [
        ["runs", "12", "10", "▲ +20.0%"],
        ["failure rate", "8.3%", "0.0%", "▲ +8.3 pp"],
        ["latency p95", "1 s", "2 s", "▼ -50.0%"],
        ["tokens", "1,100", "1,000", "▲ +10.0%"],
        ["cost", "0.011 USD", "0.01 USD", "▲ +10.0%"],
    ]
    assert build_report("bot", WEEK, rows).comparison is None
