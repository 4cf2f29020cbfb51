"""The report as files and text: names carry app, window and format; the CSV holds every run with the columns
a person filters on (inputs/outputs as JSON, Chinese intact, a BOM for spreadsheets); the JSON holds the
summary and the runs; the Markdown shows the summary with its tables (pipes escaped, long cells cut, counts
with thousands separators, amounts without float noise, "x of y" never more than there is), the per-node
table, the token split and the week-over-week comparison; an empty day says so; the chart is a real PNG whose
ticks stay readable on a 23-hour day and whose axes never run below zero."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from difyops_dagster.reports.build import ReportWindow, build_report
from difyops_dagster.reports.markdown import headline, render_markdown, title
from difyops_dagster.reports.render import chart_figure, file_name, render_chart, render_csv, render_json
from difyops_dagster_tests.reports.samples import DAY, WEEK, at, make_row
from difyops_dagster_tests.reports.test_build import llm_row, node

ROWS = [
    make_row("r1", at(3, 9), inputs={"query": "你好 | world"}, outputs={"answer": "ok"}, cost=0.001, currency="USD"),
    make_row("r2", at(3, 10), status="failed", error="Node LLM run failed: timeout\nstack", user="bob"),
]
NEW_YORK = ZoneInfo("America/New_York")


def test_file_names_carry_app_kind_window_and_format():
    assert file_name(build_report("support_bot", DAY, []), "csv") == "support_bot_daily_2026-11-03.csv"
    assert file_name(build_report("support_bot", WEEK, []), "png") == "support_bot_weekly_2026-11-02_2026-11-08.png"


def test_titles_read_as_dates_not_as_file_labels():
    assert title(build_report("bot", DAY, [])) == "Workflow report bot daily 2026-11-03 (Asia/Shanghai)"
    assert title(build_report("bot", WEEK, [])) == "Workflow report bot weekly 2026-11-02 to 2026-11-08 (Asia/Shanghai)"


def test_csv_has_one_line_per_run_with_json_inputs_and_a_bom():
    data = render_csv(build_report("bot", DAY, ROWS))
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [line["run_id"] for line in lines] == ["r2", "r1"]
    assert json.loads(lines[1]["inputs"]) == {"query": "你好 | world"}
    assert lines[0]["inputs"] == "" and lines[0]["error"].startswith("Node LLM run failed")


def test_csv_carries_finish_time_currency_node_count_exceptions_and_failing_node():
    rows = [
        llm_row("ok", at(3, 9), prompt=90, completion=30, llm_s=1.0, exceptions_count=1, finished_at=at(3, 9) + 4),
        make_row("bad", at(3, 10), status="failed", error="timeout", nodes=2, failing_node="HTTP Request",
                 finished_at=None),
    ]  # fmt: skip
    lines = list(csv.DictReader(io.StringIO(render_csv(build_report("bot", DAY, rows)).decode("utf-8-sig"))))
    bad, ok = lines
    for column in ("finished_at", "currency", "nodes", "exceptions", "failing_node", "prompt_tokens"):
        assert column in ok, column
    assert (ok["finished_at"], ok["currency"], ok["nodes"], ok["exceptions"]) == (
        "2026-11-03T09:00:04+08:00",
        "USD",
        "3",
        "1",
    )
    assert (ok["prompt_tokens"], ok["completion_tokens"], ok["failing_node"]) == ("90", "30", "")
    assert (bad["finished_at"], bad["failing_node"], bad["nodes"]) == ("", "HTTP Request", "2")


def test_json_holds_the_summary_and_every_run():
    document = json.loads(render_json(build_report("bot", DAY, ROWS, notes=["cost over 1 of 2 runs"])))
    summary = document["summary"]
    assert summary["window"] == {
        "start": "2026-11-03T00:00:00+08:00",
        "end": "2026-11-04T00:00:00+08:00",
        "timezone": "Asia/Shanghai",
        "label": "2026-11-03",
    }
    assert summary["totals"]["runs"] == 2 and summary["totals"]["cost"] == 0.001
    assert summary["failures"][0]["error"] == "Node LLM run failed: timeout"
    assert summary["notes"] == ["cost over 1 of 2 runs"]
    assert len(summary["trend"]) == 24
    assert summary["nodes"] == [] and summary["week_over_week"] is None
    assert [run["run_id"] for run in document["runs"]] == ["r2", "r1"]
    assert document["runs"][0]["cost"] is None and document["runs"][1]["inputs"] == {"query": "你好 | world"}


def test_markdown_shows_the_summary_tables_notes_and_chart():
    text = render_markdown(build_report("bot", DAY, ROWS, notes=["cost unavailable: x"]), chart_link="c.png")
    assert text.startswith("# Workflow report bot daily 2026-11-03 (Asia/Shanghai)")
    assert "| runs | 2 (failed 1, succeeded 1) |" in text
    assert "| success rate | 50.0% |" in text
    assert "| cost | 0.001 USD (over 1 of 2 runs) |" in text
    assert "| enriched | run details 1 of 2; node executions 1 of 2 |" in text
    assert "- cost unavailable: x" in text
    assert "![runs and failure rate](c.png)" in text
    assert "## Failures by error" in text and "| Node LLM run failed: timeout |  | 1 |" in text
    assert '"你好 \\| world"' in text  # a pipe inside a cell cannot break the table
    assert "## Latest runs (inputs and outputs, all 2)" in text


def test_markdown_shows_the_node_table_token_split_speed_and_latency_figures():
    rows = [llm_row(f"r{i}", at(3, 9, i), prompt=900, completion=300, llm_s=2.0, elapsed_time=float(i + 1))
            for i in range(4)]  # fmt: skip
    rows.append(make_row("f", at(3, 10), status="failed", error="boom", failing_node="HTTP Request", node_runs=[
        node("Start", "start", "succeeded", 0.01), node("HTTP Request", "http-request", "failed", 10.0)]))  # fmt: skip
    text = render_markdown(build_report("bot", DAY, rows))
    assert "| tokens | 4,900 (prompt 3,600, completion 1,200 over 4 of 5 runs) |" in text
    assert "| token speed | 150 completion tokens/s of model time |" in text
    assert "| latency mean / p50 / p95 / p99 / max | 2.2 s / 2 s / 3.8 s / 3.96 s / 4 s |" in text
    assert "| slowest node | HTTP Request (http-request): p95 10 s over 1 run |" in text
    assert "| most failing node | HTTP Request (http-request): 1 of 1 failed |" in text
    assert "## Nodes" in text
    assert "| node | type | runs | failures | failure_rate | p50_s | p95_s | total_s | tokens | cost |" in text
    assert "| LLM | llm | 4 | 0 | 0 | 2 | 2 | 8 | 4,800 | 0.004 |" in text
    assert "| boom | HTTP Request | 1 | 1 |" in text  # the failures table names the failing node


def test_counts_have_thousands_separators_and_amounts_no_float_noise():
    rows = [make_row(f"r{i:05d}", at(3, 0) + i * 8, cost=0.0002 if i % 2 else 0.000288, currency="USD",
                     user="alice" if i < 2 else f"u{i}") for i in range(10_001)]  # fmt: skip
    text = render_markdown(build_report("bot", DAY, rows))
    assert "| runs | 10,001 (succeeded 10,001) |" in text
    assert "## Latest runs (inputs and outputs, 20 of 10,001)" in text
    assert "_9,981 more in the CSV / JSON files._" in text
    assert "| alice | 2 | 0 | 0 | 0 | 1 | 1 | 200 | 0.000488 |" in text
    assert "00000000000" not in text
    assert "Runs: 10,001 (failed 0" in headline(build_report("bot", DAY, rows))[0]


def test_an_empty_day_reads_as_a_day_without_runs():
    text = render_markdown(build_report("bot", DAY, []))
    assert "| runs | 0 (none) |" in text
    assert "| cost | none (no runs) |" in text and "see notes" not in text
    assert "| token speed | none (no runs) |" in text and "| enriched | none (no runs) |" in text


def test_cost_not_fetched_points_to_the_notes_only_when_there_are_notes():
    plain = render_markdown(build_report("bot", DAY, [make_row("a", at(3, 9))]))
    assert "| cost | n/a (node executions not fetched) |" in plain
    noted = render_markdown(build_report("bot", DAY, [make_row("a", at(3, 9))], notes=["cost unavailable: x"]))
    assert "| cost | n/a (node executions not fetched; see notes) |" in noted


def test_headline_is_what_a_notification_carries():
    lines = headline(build_report("bot", DAY, ROWS, notes=["cost unavailable: x"]))
    assert lines[0] == "Runs: 2 (failed 1, success rate 50.0%; failed 1, succeeded 1)"
    assert "Failure x1: Node LLM run failed: timeout" in lines
    assert lines[-1] == "Note: cost unavailable: x"


def test_a_weekly_report_compares_with_the_week_before_in_markdown_and_headline():
    before = build_report("bot", WEEK, [make_row(f"b{i}", at(3, 9, i)) for i in range(10)]).totals
    report = build_report("bot", WEEK, [make_row(f"r{i}", at(4, 9, i)) for i in range(12)], week_before=before)
    text = render_markdown(report)
    assert "## Compared with the week before" in text
    assert "| runs | 12 | 10 | ▲ +20.0% |" in text
    assert any(line.startswith("Against the week before: runs ▲ +20.0%; failure rate ▶ +0.0 pp") for line in
               headline(report))  # fmt: skip


def test_chart_is_a_png_of_the_window():
    png = render_chart(build_report("bot", WEEK, [make_row("a", at(4, 9))]))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (720, 256)


def test_a_23_hour_days_chart_has_at_most_twelve_ticks_each_with_its_offset():
    window = ReportWindow("daily", datetime(2026, 3, 8, tzinfo=NEW_YORK), datetime(2026, 3, 9, tzinfo=NEW_YORK))
    axes = chart_figure(build_report("bot", window, [make_row("a", int(window.start.timestamp()) + 60)])).axes[0]
    labels = [tick.get_text() for tick in axes.get_xticklabels()]
    assert len(labels) <= 12
    assert labels[:2] == ["00:00\nUTC-05:00", "03:00\nUTC-04:00"]


def test_an_empty_days_chart_axes_start_at_zero():
    figure = chart_figure(build_report("bot", DAY, []))
    runs_axes, rate_axes = figure.axes
    assert runs_axes.get_ylim()[0] == 0 and runs_axes.get_ylim()[1] >= 1
    assert rate_axes.get_ylim()[0] == 0
