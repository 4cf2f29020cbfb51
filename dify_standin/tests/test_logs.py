"""`GET /workflows/logs` as Dify answers it (shared/dify-api.md §7): newest first, `limit` 1-100 (default 20),
`page` 1-99999, `has_more = total > page*limit`, inclusive ISO-8601 time bounds, `status` without
`partial-succeeded`, keyword over inputs/outputs/session, session and account filters, and Dify's row shape.
Seeded rows (explicit or generated) behave like real runs."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest
import requests

from dify_standin.tests.conftest import APP_KEY, Api

BASE = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
ROW_KEYS = {
    "id",
    "workflow_run",
    "created_from",
    "created_by_role",
    "created_by_account",
    "created_by_end_user",
    "created_at",
    "details",
}
RUN_KEYS = {
    "id",
    "version",
    "status",
    "error",
    "elapsed_time",
    "total_tokens",
    "total_steps",
    "created_at",
    "finished_at",
    "exceptions_count",
    "triggered_from",
}


@pytest.fixture
def app(api: Api) -> dict:
    return api.admin.create_app("bot", APP_KEY, workflow={"outputs": {"answer": "A: {{query}}"}})


def logs(api: Api, **params) -> requests.Response:
    return api.app("GET", "/workflows/logs", params=params)


def test_rows_come_newest_first_in_pages_with_difys_has_more(api, app):
    api.admin.seed_logs(app["id"], [{"id": f"r{i:02d}", "created_at": BASE + i} for i in range(45)])
    pages = [logs(api, page=p).json() for p in (1, 2, 3, 4)]
    assert [len(p["data"]) for p in pages] == [20, 20, 5, 0]
    assert [p["has_more"] for p in pages] == [True, True, False, False]
    assert {p["total"] for p in pages} == {45} and pages[0]["limit"] == 20
    ids = [row["workflow_run"]["id"] for p in pages for row in p["data"]]
    assert ids == [f"r{i:02d}" for i in reversed(range(45))]
    exact = logs(api, limit=15, page=3).json()
    assert (len(exact["data"]), exact["has_more"]) == (15, False)


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"page": 0}, {"page": 100000}, {"status": "running"}]
)
def test_values_outside_difys_ranges_are_400_invalid_param(api, app, params):
    response = logs(api, **params)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_param")


def test_status_filters_rows_and_partial_succeeded_is_refused(api, app):
    statuses = ["succeeded", "failed", "stopped", "failed", "partial-succeeded"]
    api.admin.seed_logs(app["id"], [{"created_at": BASE + i, "status": s} for i, s in enumerate(statuses)])
    assert logs(api, status="failed").json()["total"] == 2
    assert logs(api, status="stopped").json()["data"][0]["workflow_run"]["error"] == "Stopped by user."
    refused = logs(api, status="partial-succeeded")
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_param")


def test_the_time_window_is_inclusive_and_reads_any_iso_8601_form(api, app):
    api.admin.seed_logs(app["id"], [{"created_at": BASE + s} for s in (-1, 0, 3600, 86399, 86400)])

    def window(after: str, before: str) -> list[int]:
        rows = logs(api, created_at__after=after, created_at__before=before).json()["data"]
        return sorted(row["created_at"] - BASE for row in rows)

    assert window("2026-11-01T00:00:00Z", "2026-11-01T23:59:59Z") == [0, 3600, 86399]
    assert window("2026-11-01T08:00:00+08:00", "2026-11-01T01:00:00") == [0, 3600]  # no zone means UTC
    bad = logs(api, created_at__after="yesterday")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_param")


def test_keyword_matches_inputs_outputs_or_session_case_insensitively(api, app):
    rows = [
        {"created_at": BASE, "inputs": {"query": "Reset my VPN"}, "user": "u1"},
        {"created_at": BASE + 1, "inputs": {"query": "x"}, "outputs": {"answer": "see the vpn guide"}, "user": "u2"},
        {"created_at": BASE + 2, "inputs": {"query": "billing"}, "user": "vpn-team"},
        {"created_at": BASE + 3, "inputs": {"query": "unrelated"}, "user": "u3"},
    ]
    api.admin.seed_logs(app["id"], rows)
    assert logs(api, keyword="VPN").json()["total"] == 3
    assert logs(api, keyword="vpn" + "x" * 40).json()["total"] == 0
    assert logs(api, keyword="unrelated" + " " * 25 + "ignored beyond 30 chars").json()["total"] == 0


def test_session_and_account_filters_and_the_row_shape_of_each_creator(api, app):
    rows = [
        {"created_at": BASE, "user": "alice"},
        {"created_at": BASE + 1, "user": "bob"},
        {"created_at": BASE + 2, "account": "ops@example.com"},
    ]
    api.admin.seed_logs(app["id"], rows)
    (alice,) = logs(api, created_by_end_user_session_id="alice").json()["data"]
    (ops,) = logs(api, created_by_account="ops@example.com").json()["data"]
    assert logs(api, created_by_account="nobody@example.com").json() == {
        "page": 1,
        "limit": 20,
        "total": 0,
        "has_more": False,
        "data": [],
    }
    assert set(alice) == ROW_KEYS and set(alice["workflow_run"]) == RUN_KEYS
    assert (alice["created_by_role"], alice["created_from"], alice["created_by_account"]) == (
        "end_user",
        "service-api",
        None,
    )
    assert alice["created_by_end_user"]["session_id"] == "alice"
    assert alice["created_by_end_user"]["type"] == "service-api"  # `service_api` before 1.10
    assert (ops["created_by_role"], ops["created_from"], ops["created_by_end_user"]) == (
        "account",
        "installed-app",
        None,
    )
    assert ops["created_by_account"]["email"] == "ops@example.com"


def test_seeded_rows_are_runs_too_with_inputs_and_rendered_outputs(api, app):
    run_id = "5eed0000-0000-4000-8000-000000000001"
    api.admin.seed_logs(app["id"], [{"id": run_id, "created_at": BASE, "inputs": {"query": "hi"}}])
    detail = api.app("GET", f"/workflows/run/{run_id}").json()
    assert json.loads(detail["inputs"])["query"] == "hi" and "sys.app_id" in json.loads(detail["inputs"])
    assert (detail["outputs"], detail["status"]) == ({"answer": "A: hi"}, "succeeded")
    assert detail["finished_at"] == BASE + 1


def test_a_generated_spec_gives_the_same_realistic_rows_for_the_same_seed(api, app):
    spec = {
        "count": 3000,
        "start": "2026-10-01T00:00:00Z",
        "end": "2026-11-01T00:00:00Z",
        "failure_rate": 0.2,
        "users": 30,
        "versions": ["v1", "v2"],
        "account_rate": 0.1,
        "seed": 11,
    }
    assert api.admin.seed_logs(app["id"], generate=spec) == 3000
    rows = _all_rows(api, APP_KEY)
    api.admin.reset()
    again = api.admin.create_app("bot", APP_KEY, id=app["id"], workflow={"outputs": {"answer": "A: {{query}}"}})
    api.admin.seed_logs(again["id"], generate=spec)
    assert [r["workflow_run"]["id"] for r in _all_rows(api, APP_KEY)] == [r["workflow_run"]["id"] for r in rows]
    statuses = Counter(r["workflow_run"]["status"] for r in rows)
    assert 450 < statuses["failed"] < 750 and statuses["succeeded"] > 2000
    early, late = rows[-300:], rows[:300]  # newest first
    assert Counter(r["workflow_run"]["version"] for r in early).most_common(1)[0][0] == "v1"
    assert Counter(r["workflow_run"]["version"] for r in late).most_common(1)[0][0] == "v2"
    sessions = Counter(r["created_by_end_user"]["session_id"] for r in rows if r["created_by_end_user"])
    assert 20 < len(sessions) <= 30 and sessions.most_common(1)[0][1] > 3 * sessions.most_common()[-1][1]
    assert 200 < sum(r["created_by_role"] == "account" for r in rows) < 400
    failed = next(r for r in rows if r["workflow_run"]["status"] == "failed")
    assert failed["workflow_run"]["error"]
    detail = api.app("GET", f"/workflows/run/{failed['workflow_run']['id']}").json()
    assert detail["status"] == "failed" and "query" in detail["inputs"]


def _all_rows(api: Api, key: str) -> list[dict]:
    rows, page = [], 1
    while True:
        body = api.app("GET", "/workflows/logs", key, params={"limit": 100, "page": page}).json()
        rows += body["data"]
        if not body["has_more"]:
            return rows
        page += 1


def test_logs_of_one_app_are_invisible_to_another(api, app):
    api.admin.seed_logs(app["id"], [{"created_at": BASE}])
    api.admin.create_app("other", "app-other")
    assert api.app("GET", "/workflows/logs", "app-other").json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"rows": [{"status": "exploded"}]},
        {"rows": [{"created_at": "not a date"}]},
        {"generate": {"count": 10, "start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"}},
        {"generate": {"count": 10}},
    ],
)
def test_bad_seed_specs_are_refused_and_seed_nothing(api, app, body):
    response = requests.post(f"{api.server.url}/_standin/apps/{app['id']}/logs", json=body, timeout=5)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_param")
    assert logs(api).json()["total"] == 0


def test_seeding_an_unknown_app_is_404(api):
    response = requests.post(f"{api.server.url}/_standin/apps/nope/logs", json={"rows": [{}]}, timeout=5)
    assert response.status_code == 404
