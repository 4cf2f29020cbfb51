"""A daily report over 100,000 workflow-log rows on the stand-in, side by side with seed 004's fetch loop.

Ours: `fetch_app_logs` (every page of 100, the window's bounds sent to Dify) then `build_report` and the four
renderings (CSV, Markdown, JSON, PNG). The seed: a straight port of `WorkflowLogFetcher.fetch_all_logs`
(sequential `session.get`, its default `limit=20`, stop on `has_more`), and its default path, which is
`fetch_all=False`: page 1 only, reported as the whole day. Each side runs in its own process so that peak
memory (max RSS) is its own; requests are counted by the stand-in. The client-side rate limit is off on both
sides (the product's default, 20 requests/s, would add ceil(N/100)/20 s to ours).

    .venv/bin/python benchmarks/run.py report_daily        # or: .venv/bin/python benchmarks/report_daily.py
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

TITLE = "Daily report over 100,000 workflow-log rows (fetch + build), vs seed 004's fetch loop"
N = 100_000
APP_KEY = "app-bench-report-0001"
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 3, tzinfo=TZ)
END = datetime(2026, 11, 4, tzinfo=TZ)
HERE = Path(__file__).resolve()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ours(url: str) -> dict:
    from difyops_dagster.dify.client import DifyAppClient
    from difyops_dagster.dify.compat import DifyCompat
    from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions
    from difyops_dagster.reports import markdown, render
    from difyops_dagster.reports.build import ReportWindow, build_report
    from difyops_dagster.reports.fetch import ConsoleAccess, EnrichOptions, LogFilter, fetch_app_logs

    baseline = _rss_mb()
    options = TransportOptions(rate_limit_per_second=0)
    client = DifyAppClient(DifyTransport(url, APP_KEY, options, RateLimiter(0)), DifyCompat.parse("1.13"))
    started = time.perf_counter()
    fetched = fetch_app_logs(
        client, START, END, LogFilter(), ConsoleAccess(None, "off"), None, EnrichOptions(False, False)
    )
    fetch_s = time.perf_counter() - started
    started = time.perf_counter()
    report = build_report("bench", ReportWindow("daily", START, END), fetched.rows)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    sizes = {
        "csv": len(render.render_csv(report)),
        "md": len(markdown.render_markdown(report)),
        "json": len(render.render_json(report)),
        "png": len(render.render_chart(report)),
    }
    render_s = time.perf_counter() - started
    return {
        "rows": len(fetched.rows),
        "runs": report.totals.runs,
        "fetch_s": fetch_s,
        "build_s": build_s,
        "render_s": render_s,
        "sizes": sizes,
        "baseline_mb": baseline,
        "peak_mb": _rss_mb(),
    }


def _seed(url: str, fetch_all: bool) -> dict:
    """Seed 004's `fetch_all_logs` (and its default single page), ported line for line."""
    import requests

    baseline = _rss_mb()
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {APP_KEY}", "Content-Type": "application/json"})
    params_base = {"created_at__after": START.isoformat(), "created_at__before": END.isoformat()}
    started = time.perf_counter()
    all_logs: list = []
    page = 1
    while True:
        response = session.get(f"{url}/workflows/logs", params={"page": page, "limit": 20, **params_base}, timeout=30)
        response.raise_for_status()
        result = response.json()
        logs = result.get("data", [])
        if not logs:
            break
        all_logs.extend(logs)
        if not fetch_all or not result.get("has_more", False):
            break
        page += 1
    fetch_s = time.perf_counter() - started
    return {"rows": len(all_logs), "fetch_s": fetch_s, "baseline_mb": baseline, "peak_mb": _rss_mb()}


def _worker(kind: str, url: str) -> dict:
    command = [sys.executable, str(HERE), "--worker", kind, "--url", url]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=1800)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    from dify_standin.processes import StandinProcess

    with StandinProcess() as server:
        app = server.admin.create_app("bench", APP_KEY)
        spec = {"count": N, "start": START.isoformat(), "end": END.isoformat(), "users": 400, "failure_rate": 0.08}
        server.admin.seed_logs(app["id"], generate={**spec, "seed": 4})
        results, requests_made = {}, {}
        for kind in ("ours", "seed_all", "seed_default"):
            server.admin.clear_request_log()
            results[kind] = _worker(kind, server.api_url)
            requests_made[kind] = sum(1 for r in server.admin.request_log() if r["path"] == "/v1/workflows/logs")
    ours, seed, default = results["ours"], results["seed_all"], results["seed_default"]
    minimum = math.ceil(N / 100)
    total = ours["fetch_s"] + ours["build_s"] + ours["render_s"]

    growth, seed_growth = ours["peak_mb"] - ours["baseline_mb"], seed["peak_mb"] - seed["baseline_mb"]
    sizes = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in ours["sizes"].items())
    return [
        _row("rows in the report (ours)", ours["runs"], f"seeded {N}", ours["runs"], N),
        _row("requests (ours, limit 100)", requests_made["ours"], f"ceil(N/100) = {minimum}",
             requests_made["ours"], minimum),
        _row("requests (seed fetch_all, limit 20)", requests_made["seed_all"], f"ceil(N/100) = {minimum}",
             requests_made["seed_all"], minimum),
        _row("fetch s (ours)", f"{ours['fetch_s']:.1f}", f"seed fetch_all {seed['fetch_s']:.1f}",
             ours["fetch_s"], seed["fetch_s"]),
        _row("build s (ours: every table, p50/p95, sessions)", f"{ours['build_s']:.2f}"),
        _row("render s (ours: CSV + MD + JSON + PNG)", f"{ours['render_s']:.2f}", sizes),
        _row("fetch + build + render s (ours)", f"{total:.1f}", f"seed fetch only {seed['fetch_s']:.1f}",
             total, seed["fetch_s"]),
        _row("peak RSS MB (ours, whole report)", f"{ours['peak_mb']:.0f}", f"seed fetch_all {seed['peak_mb']:.0f}",
             ours["peak_mb"], seed["peak_mb"]),
        _row("RSS growth over imports MB (ours)", f"{growth:.0f}", f"seed {seed_growth:.0f}", growth, seed_growth),
        _row("rows the seed's default path reports (fetch_all=False)", default["rows"],
             f"{N} in the day, {requests_made['seed_default']} request", default["rows"], N),
    ]  # fmt: skip


def _row(figure: str, value: object, compared_with: str = "", a: float | None = None, b: float | None = None) -> dict:
    ratio = f"{a / b:.2f}x" if a is not None and b else ""
    return {"figure": figure, "value": value, "compared_with": compared_with, "ratio": ratio}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=["ours", "seed_all", "seed_default"])
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(HERE.parent.parent))
        if args.worker == "ours":
            print(json.dumps(_ours(args.url)))
        else:
            print(json.dumps(_seed(args.url, fetch_all=args.worker == "seed_all")))
        return
    sys.path.insert(0, str(HERE.parent.parent))
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
