"""The report as files: names carry app, window and format; the CSV holds every run (inputs/outputs as JSON,
Chinese intact, a BOM for spreadsheets); the JSON holds the summary and the runs; the Markdown shows the
summary with its tables (pipes escaped, long cells cut); the chart is a real PNG."""

from __future__ import annotations

import csv
import io
import json

from difyops_dagster.reports.build import build_report
from difyops_dagster.reports.render import (
    file_name,
    headline,
    render_chart,
    render_csv,
    render_json,
    render_markdown,
)
from difyops_dagster_tests.reports.samples import DAY, WEEK, at, make_row

ROWS = [
    make_row("r1", at(3, 9), inputs={"query": "你好 | world"}, outputs={"answer": "ok"}, cost=0.001, currency="USD"),
    make_row("r2", at(3, 10), status="failed", error="Node LLM run failed: timeout\nstack", user="bob"),
]


def test_file_names_carry_app_kind_window_and_format():
    assert file_name(build_report("support_bot", DAY, []), "csv") == "support_bot_daily_2026-11-03.csv"
    assert file_name(build_report("support_bot", WEEK, []), "png") == "support_bot_weekly_2026-11-02_2026-11-08.png"


def test_csv_has_one_line_per_run_with_json_inputs_and_a_bom():
    data = render_csv(build_report("bot", DAY, ROWS))
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [line["run_id"] for line in lines] == ["r2", "r1"]
    assert json.loads(lines[1]["inputs"]) == {"query": "你好 | world"}
    assert lines[0]["inputs"] == "" and lines[0]["error"].startswith("Node LLM run failed")


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
    assert [run["run_id"] for run in document["runs"]] == ["r2", "r1"]
    assert document["runs"][0]["cost"] is None and document["runs"][1]["inputs"] == {"query": "你好 | world"}


def test_markdown_shows_the_summary_tables_notes_and_chart():
    text = render_markdown(build_report("bot", DAY, ROWS, notes=["cost unavailable: x"]), chart_link="c.png")
    assert text.startswith("# Workflow report bot daily 2026-11-03 (Asia/Shanghai)")
    assert "| runs | 2 (failed 1, succeeded 1) |" in text
    assert "| success rate | 50.0% |" in text
    assert "| cost | 0.001000 USD (over 1 of 2 runs) |" in text
    assert "- cost unavailable: x" in text
    assert "![runs and failure rate](c.png)" in text
    assert "## Failures by error" in text and "| Node LLM run failed: timeout | 1 |" in text
    assert '"你好 \\| world"' in text  # a pipe inside a cell cannot break the table


def test_headline_is_what_a_notification_carries():
    lines = headline(build_report("bot", DAY, ROWS, notes=["cost unavailable: x"]))
    assert lines[0] == "Runs: 2 (failed 1, success rate 50.0%)"
    assert "Failure x1: Node LLM run failed: timeout" in lines
    assert lines[-1] == "Note: cost unavailable: x"


def test_chart_is_a_png_of_the_window():
    png = render_chart(build_report("bot", WEEK, [make_row("a", at(4, 9))]))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (720, 256)
