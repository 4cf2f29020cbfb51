"""100,000 log rows stay cheap: seeding is one generate-and-merge (no per-row sort), a time window is two
bisections, and any page (the last one included) is a slice. The bounds here are loose guards against an
accidental O(n^2) or a per-request sort, not performance claims."""

from __future__ import annotations

import time

import pytest

from dify_standin.tests.conftest import APP_KEY

N = 100_000
SPEC = {"count": N, "start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z", "seed": 7, "users": 400}


@pytest.mark.slow
def test_100000_generated_rows_seed_in_seconds_and_every_page_is_fast(api):
    app = api.admin.create_app("bench", APP_KEY)
    started = time.monotonic()
    assert api.admin.seed_logs(app["id"], generate=SPEC) == N
    assert time.monotonic() - started < 20
    assert api.admin.state()["log_counts"][app["id"]] == N

    def page(**params) -> tuple[dict, float]:
        began = time.monotonic()
        body = api.app("GET", "/workflows/logs", params={"limit": 100, **params}).json()
        return body, time.monotonic() - began

    first, first_s = page()
    last, last_s = page(page=N // 100)
    assert (first["total"], first["has_more"], last["has_more"], len(last["data"])) == (N, True, False, 100)
    assert first["data"][0]["created_at"] >= last["data"][-1]["created_at"]
    day = {"created_at__after": "2026-10-05T00:00:00Z", "created_at__before": "2026-10-05T23:59:59Z"}
    window, window_s = page(**day)
    assert 2000 < window["total"] < 4500
    rows, pages_s = [], 0.0
    for number in range(1, window["total"] // 100 + 2):
        body, seconds = page(page=number, **day)
        rows += body["data"]
        pages_s += seconds
    assert len(rows) == len({r["id"] for r in rows}) == window["total"]
    failed, failed_s = page(status="failed", page=5)
    assert len(failed["data"]) == 100
    assert max(first_s, last_s, window_s, failed_s) < 2 and pages_s < 20
