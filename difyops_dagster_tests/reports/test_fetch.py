"""Fetching one app's window from the stand-in: every page is read (not just page 1), Dify's inclusive bounds
are narrowed to the half-open window so a midnight run is counted once, the seed's filters reach Dify, and
enrichment is best effort per run with a note saying what is missing and why — the rows still come back."""

from __future__ import annotations

import math

import pytest

from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.resource import DifyResource
from difyops_dagster.reports.fetch import ConsoleAccess, EnrichOptions, LogFilter, fetch_app_logs
from difyops_dagster.reports.resources import ReportApp, ReportSourcesResource
from difyops_dagster_tests.reports.samples import (
    CONSOLE_EMAIL,
    CONSOLE_PASSWORD,
    DAY,
    app_client,
    at,
    console_client,
    seeded_row,
)

KEY = "app-fetch-tests-000001"
NO_ENRICHMENT = EnrichOptions(run_details=False, node_executions=False)
NO_CONSOLE = ConsoleAccess(None, "console credentials are not configured")


@pytest.fixture
def app_id(standin) -> str:
    return standin.admin.create_app("bot", KEY)["id"]


def logs_requests(standin) -> list[dict]:
    return [r for r in standin.admin.request_log() if r["path"] == "/v1/workflows/logs"]


def test_every_page_is_read_and_runs_on_the_window_edges_are_counted_once(standin, app_id):
    inside = [seeded_row(f"in-{i}", DAY.start_ts + 60 * i) for i in range(248)]
    edges = [
        seeded_row("at-start", DAY.start_ts),
        seeded_row("last-second", DAY.end_ts - 1),
        seeded_row("at-next-midnight", DAY.end_ts),  # Dify returns it (inclusive bound); it belongs to tomorrow
        seeded_row("before-start", DAY.start_ts - 1),
    ]
    standin.admin.seed_logs(app_id, inside + edges)
    standin.admin.clear_request_log()
    fetched = fetch_app_logs(app_client(standin, KEY), DAY.start, DAY.end, LogFilter(), NO_CONSOLE, None, NO_ENRICHMENT)
    ids = [row["run_id"] for row in fetched.rows]
    assert len(ids) == 250 and len(set(ids)) == 250
    assert "at-start" in ids and "last-second" in ids
    assert "at-next-midnight" not in ids and "before-start" not in ids
    assert fetched.pages == math.ceil(251 / 100) == len(logs_requests(standin))
    assert [row["created_at"] for row in fetched.rows] == sorted(row["created_at"] for row in fetched.rows)


def test_keyword_and_status_filters_are_sent_to_dify(standin, app_id):
    standin.admin.seed_logs(
        app_id,
        [
            seeded_row("a", at(3, 9), inputs={"query": "refund please"}),
            seeded_row("b", at(3, 10), inputs={"query": "refund now"}, status="failed", error="boom"),
            seeded_row("c", at(3, 11), inputs={"query": "hello"}, status="failed", error="boom"),
        ],
    )
    client = app_client(standin, KEY)
    by_keyword = fetch_app_logs(
        client, DAY.start, DAY.end, LogFilter(keyword="refund"), NO_CONSOLE, None, NO_ENRICHMENT
    )
    assert sorted(r["run_id"] for r in by_keyword.rows) == ["a", "b"]
    both = fetch_app_logs(
        client, DAY.start, DAY.end, LogFilter(keyword="refund", status="failed"), NO_CONSOLE, None, NO_ENRICHMENT
    )
    assert [r["run_id"] for r in both.rows] == ["b"]


def test_run_details_add_inputs_and_outputs(standin, app_id):
    standin.admin.seed_logs(app_id, [seeded_row("a", at(3, 9), inputs={"query": "你好"}, outputs={"answer": "hi"})])
    options = EnrichOptions(run_details=True, node_executions=False)
    (row,) = fetch_app_logs(app_client(standin, KEY), DAY.start, DAY.end, LogFilter(), NO_CONSOLE, None, options).rows
    assert (row["inputs"], row["outputs"], row["cost"]) == ({"query": "你好"}, {"answer": "hi"}, None)


def test_cost_comes_from_node_executions_through_the_console(standin, app_id):
    standin.admin.seed_logs(app_id, [seeded_row("a", at(3, 9), total_tokens=1000), seeded_row("b", at(3, 10))])
    standin.admin.set_console_account("ops@example.com", "console-password-1!")
    console = ConsoleAccess(console_client(standin, "1.13"))
    fetched = fetch_app_logs(
        app_client(standin, KEY), DAY.start, DAY.end, LogFilter(), console, app_id, EnrichOptions()
    )
    assert fetched.notes == ()
    assert [(r["run_id"], r["cost"], r["nodes"], r["currency"]) for r in fetched.rows] == [
        ("a", 0.002, 3, "USD"),
        ("b", 0.001, 3, "USD"),
    ]


def test_node_executions_give_the_token_split_the_model_time_and_the_failing_node(standin, app_id):
    """The split is read from the LLM node's `process_data.usage`, the only place Dify reports it."""
    standin.admin.seed_logs(app_id, [
        seeded_row("ok", at(3, 9), total_tokens=1000, elapsed_time=3.0),
        seeded_row("bad", at(3, 10), status="failed", error="Node LLM run failed: quota", total_tokens=0),
    ])  # fmt: skip
    standin.admin.set_console_account(CONSOLE_EMAIL, CONSOLE_PASSWORD)
    console = ConsoleAccess(console_client(standin, "1.13"))
    ok, bad = fetch_app_logs(
        app_client(standin, KEY), DAY.start, DAY.end, LogFilter(), console, app_id, EnrichOptions()
    ).rows
    assert (ok["prompt_tokens"], ok["completion_tokens"], ok["llm_seconds"], ok["failing_node"]) == (
        750,
        250,
        2.9998,
        None,
    )
    assert [(n["title"], n["type"], n["status"], n["tokens"]) for n in ok["node_runs"]] == [
        ("Start", "start", "succeeded", 0),
        ("LLM", "llm", "succeeded", 1000),
        ("End", "end", "succeeded", 0),
    ]
    assert bad["failing_node"] == "LLM" and [n["status"] for n in bad["node_runs"]] == ["succeeded", "failed"]
    assert bad["prompt_tokens"] is None  # no node reported model usage: unknown, not zero


@pytest.mark.parametrize(
    ("console", "app_id_given", "note"),
    [
        ("missing", True, "cost unavailable: console credentials are not configured"),
        ("wrong-password", True, "Invalid email or password."),
        ("ok", False, "cost unavailable: reports.apps[].app_id is not set"),
    ],
)
def test_missing_or_wrong_console_access_is_a_note_and_the_rows_still_come_back(
    standin, app_id, console, app_id_given, note
):
    standin.admin.seed_logs(app_id, [seeded_row("a", at(3, 9))])
    standin.admin.set_console_account("ops@example.com", "console-password-1!")
    access = {
        "missing": NO_CONSOLE,
        "wrong-password": ConsoleAccess(console_client(standin, "1.13", password="not-it-123")),
        "ok": ConsoleAccess(console_client(standin, "1.13")),
    }[console]
    fetched = fetch_app_logs(
        app_client(standin, KEY), DAY.start, DAY.end, LogFilter(), access, app_id if app_id_given else None,
        EnrichOptions(),
    )  # fmt: skip
    (row,) = fetched.rows
    assert row["inputs"] == {"query": "q a"} and row["cost"] is None
    (only,) = fetched.notes
    assert note in only and "not-it-123" not in only


def test_per_run_enrichment_failures_are_counted_in_a_note(standin, app_id):
    standin.admin.seed_logs(app_id, [seeded_row(f"r{i}", at(3, 9, i)) for i in range(4)])
    standin.admin.set_faults([{"path": "^/v1/workflows/run/r[01]$", "status": 500}])
    options = EnrichOptions(run_details=True, node_executions=False, workers=2)
    fetched = fetch_app_logs(app_client(standin, KEY), DAY.start, DAY.end, LogFilter(), NO_CONSOLE, None, options)
    assert fetched.notes == (
        "run details (GET /workflows/run/{id}) failed for 2 of 4 runs (first: HTTP 500, internal_server_error: "
        "Injected fault 500)",
    )
    assert [r["inputs"] is None for r in fetched.rows] == [True, True, False, False]


def test_every_run_of_the_day_is_enriched_by_default(standin, app_id):
    """Seed 004 and the first version here stopped after a fixed number of runs (5,000, the oldest)."""
    standin.admin.seed_logs(app_id, [seeded_row(f"r{i:04d}", DAY.start_ts + 10 * i) for i in range(5003)])
    options = EnrichOptions(run_details=True, node_executions=False, workers=8)
    fetched = fetch_app_logs(app_client(standin, KEY), DAY.start, DAY.end, LogFilter(), NO_CONSOLE, None, options)
    assert fetched.notes == ()
    assert len(fetched.rows) == 5003 and all(r["inputs"] == {"query": f"q {r['run_id']}"} for r in fetched.rows)


def test_a_cap_enriches_the_newest_runs_and_says_what_the_older_ones_lack(standin, app_id):
    standin.admin.seed_logs(app_id, [seeded_row(f"r{i}", at(3, 9, i)) for i in range(5)])
    options = EnrichOptions(run_details=True, node_executions=False, max_runs=2)
    fetched = fetch_app_logs(app_client(standin, KEY), DAY.start, DAY.end, LogFilter(), NO_CONSOLE, None, options)
    assert fetched.notes == (
        "enriched the newest 2 of 5 runs (reports.enrich_max_runs); the older 3 have no inputs, outputs, cost or "
        "node figures",
    )
    assert [r["run_id"] for r in fetched.rows] == ["r0", "r1", "r2", "r3", "r4"]  # still oldest first
    assert [r["inputs"] is not None for r in fetched.rows] == [False, False, False, True, True]


def test_the_console_and_the_app_key_share_one_rate_limit(standin, app_id):
    """Both clients draw from the Dify resource's one budget: 2 requests per run inside `rate_limit_per_second`."""
    standin.admin.seed_logs(app_id, [seeded_row(f"r{i}", at(3, 9, i)) for i in range(30)])
    standin.admin.set_console_account(CONSOLE_EMAIL, CONSOLE_PASSWORD)
    dify = DifyResource(base_url=standin.api_url, rate_limit_per_second=20.0)
    sources = ReportSourcesResource(
        apps=[ReportApp(name="bot", api_key=KEY, app_id=app_id)],
        console_url=standin.url,
        console_email=CONSOLE_EMAIL,
        console_password=CONSOLE_PASSWORD,
    )
    console = sources.console(dify)
    assert console.client.transport.limiter is dify.app_client(KEY).transport.limiter


def test_a_log_listing_dify_refuses_raises_instead_of_reporting_zero_runs(standin, app_id):
    standin.admin.seed_logs(app_id, [seeded_row("a", at(3, 9))])
    with pytest.raises(DifyError) as error:
        fetch_app_logs(
            app_client(standin, "app-unknown-key-0000"), DAY.start, DAY.end, LogFilter(), NO_CONSOLE, None,
            NO_ENRICHMENT,
        )  # fmt: skip
    assert error.value.status == 401
