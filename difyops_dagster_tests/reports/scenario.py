"""A month of realistic runs in Asia/Shanghai for the asset tests, and the helpers that build and run them.

October 2026: 8 to 12 runs a day with users, versions, tokens, latencies and a few distinct errors, plus runs
at 23:59:59 and 00:00:00 local time and at UTC midnight (08:00 local) around the week of 5 to 11 October.
`EXPECTED` counts the runs by local day, computed here from the seeded timestamps, never by the code tested.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import datetime

import dagster as dg

from difyops_dagster.definitions import build_definitions
from difyops_dagster.reports.assets import build_report_assets
from difyops_dagster.reports.partitions import daily_partitions, weekly_partitions
from difyops_dagster.settings import Settings, parse_settings
from difyops_dagster_tests.reports.samples import CONSOLE_EMAIL, SHANGHAI, at, seeded_row

BOT_KEY = "app-support-bot-key-0001"
USERS = [f"user-{i:02d}" for i in range(12)]
ERRORS = [
    "Node LLM run failed: Rate limit reached",
    "Node HTTP Request run failed: timeout",
    "Variable #query# not found",
]
S3_SETTINGS = {"access_key_id": {"env": "AWS_ACCESS_KEY_ID"}, "secret_access_key": {"env": "AWS_SECRET_ACCESS_KEY"}}
WEEK_DAYS = [f"2026-10-{d:02d}" for d in range(5, 12)]  # Monday 5 to Sunday 11 October 2026


def october_rows() -> list[dict]:
    rng = random.Random(7)
    rows = []
    for day in range(1, 32):
        for i in range(8 + day % 5):
            failed = rng.random() < 0.15
            rows.append(
                seeded_row(
                    f"oct{day:02d}-{i:02d}",
                    at(day, rng.randrange(24), rng.randrange(60), rng.randrange(60), month=10),
                    user=rng.choice(USERS),
                    version=rng.choice(["2026-09-01 09:00:00", "2026-10-08 10:00:00"]),
                    status="failed" if failed else "succeeded",
                    error=rng.choice(ERRORS) if failed else None,
                    total_tokens=0 if failed else rng.randint(50, 2000),
                    elapsed_time=round(rng.lognormvariate(0.5, 0.6), 3),
                )
            )
    for day in range(5, 12):  # both sides of each local midnight, and the UTC midnight (08:00 local)
        rows.append(seeded_row(f"edge-{day}-last", at(day, 23, 59, 59, month=10)))
        rows.append(seeded_row(f"edge-{day + 1}-first", at(day + 1, 0, 0, 0, month=10)))
        rows.append(seeded_row(f"edge-{day}-utc", at(day, 8, 0, 0, month=10)))
    return rows


ROWS = october_rows()
EXPECTED = Counter(datetime.fromtimestamp(r["created_at"], SHANGHAI).date().isoformat() for r in ROWS)


def make_settings(standin, app_id: str, storage: dict, environ: dict, *, apps=None, console="CONSOLE_PASSWORD",
                  notify=None, **reports) -> Settings:  # fmt: skip
    data = {
        "dify": {
            "base_url": standin.api_url,
            "rate_limit_per_second": 0,
            "backoff_factor_s": 0.01,
            "max_retries": 1,
            "console": {"url": standin.url, "email": CONSOLE_EMAIL, "password": {"env": console}},
        },
        "storage": storage,
        "s3": S3_SETTINGS | {"endpoint_url": environ["S3_ENDPOINT"]} if "S3_ENDPOINT" in environ else {},
        "reports": {
            "apps": apps or [{"name": "support_bot", "api_key": {"env": "BOT_KEY"}, "app_id": app_id}],
            "timezone": "Asia/Shanghai",
            "start_date": "2026-10-01",
            "enrich_workers": 2,
            **reports,
        },
        "notify": notify or {},
    }
    return parse_settings(data, environ)


def materialize(settings: Settings, which: list[str], instance, **kwargs) -> dg.ExecuteInProcessResult:
    reports = settings.reports
    assets = build_report_assets(reports, daily_partitions(reports), weekly_partitions(reports),
                                 with_notifier=bool(settings.notify.channels))  # fmt: skip
    selected = [a for a in assets if a.key.path[-1] in which]
    return dg.materialize(selected, resources=build_definitions(settings).resources, instance=instance, **kwargs)


def day_range(first: str, last: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def read_json(root, kind: str, label: str, app: str = "support_bot") -> dict:
    return json.loads((root / "reports" / kind / app / f"{app}_{kind}_{label}.json").read_text())
