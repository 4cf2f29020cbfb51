"""Workflow logs: the `GET /workflows/logs` query, its page and row shape, and the rows the admin API seeds.

Query rules follow Dify's `WorkflowAppService.get_paginate_workflow_app_logs`: both time bounds are inclusive,
`keyword` (first 30 characters, case-insensitive) matches the run's inputs, outputs or the end user's session id,
`created_by_account` is an e-mail and an unknown one gives an empty page, newest first, `has_more = total >
page * limit`. Problems raise ValueError with the message the API answers as 400 `invalid_param`.

Seeded rows are plain `WorkflowRun`s marked `seeded`, so they are also visible through the run detail route and
the console's node executions (derived from the app's workflow on demand).
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dateutil.parser import isoparse

from dify_standin.versions import Behaviour
from dify_standin.workflow_engine import STOPPED_ERROR, WorkflowRun, derived_id, render_outputs
from dify_standin.workflow_inputs import sample_inputs
from dify_standin.workflow_shapes import end_user_json
from dify_standin.workflow_store import WorkflowApp, WorkflowStore

RUN_STATUSES = ("running", "succeeded", "failed", "stopped", "partial-succeeded", "paused")
CREATED_FROM = ("service-api", "web-app", "installed-app")
KEYWORD_CHARS = 30
ERRORS = (
    ("Node LLM run failed: [openai] Error: Rate limit reached for gpt-4o in organization on tokens per min", 5),
    ("Node HTTP Request run failed: Request timed out after 10s", 3),
    ("Node Code run failed: division by zero", 1),
    ("Variable #1711528914102.text# not found", 1),
    ("Node Knowledge Retrieval run failed: Connection to vector database refused", 1),
)


@dataclass(frozen=True)
class LogQuery:
    page: int = 1
    limit: int = 20
    keyword: str | None = None
    status: str | None = None
    after: float | None = None
    before: float | None = None
    session_id: str | None = None
    account: str | None = None


def parse_time(value: Any, name: str) -> float:
    """Unix seconds from a number or an ISO-8601 string (no zone means UTC, as Dify's naive UTC columns)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name}: invalid ISO-8601 datetime {value!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def parse_log_query(args: Mapping[str, str], *, created_by_filters: bool = True) -> LogQuery:
    """The query once `validation.check_log_query` accepted its values. The window bounds go through
    `dateutil.parser.isoparse`, as in Dify, whose ValueError text is the 400's message (`yesterday` -> "invalid
    literal for int() with base 10: b'yest'"). `created_by_filters`: the session-id and account filters exist
    from 1.5.0 (ignored before)."""
    after, before = args.get("created_at__after"), args.get("created_at__before")
    return LogQuery(
        page=int(args.get("page") or 1),
        limit=int(args.get("limit") or 20),
        keyword=args.get("keyword") or None,
        status=args.get("status") or None,
        after=_isoparse(after) if after else None,
        before=_isoparse(before) if before else None,
        session_id=(args.get("created_by_end_user_session_id") or None) if created_by_filters else None,
        account=(args.get("created_by_account") or None) if created_by_filters else None,
    )


def _isoparse(text: str) -> float:
    moment = isoparse(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _matches(run: WorkflowRun, query: LogQuery, keyword: str | None) -> bool:
    if query.status and run.status != query.status:
        return False
    if query.session_id and run.session_id != query.session_id:
        return False
    if query.account and run.account_email != query.account:
        return False
    if keyword:
        texts = (json.dumps(run.inputs, ensure_ascii=False), json.dumps(run.outputs, ensure_ascii=False))
        return any(keyword in text.lower() for text in texts) or keyword in (run.session_id or "").lower()
    return True


def select_logs(store: WorkflowStore, app_id: str, query: LogQuery) -> tuple[int, list[WorkflowRun]]:
    """(total matching rows, this page's runs newest first). Call with the store's lock held."""
    index = store.logs.get(app_id)
    if index is None:
        return 0, []
    ids = index.window(query.after, query.before)
    keyword = query.keyword[:KEYWORD_CHARS].lower() if query.keyword else None
    if query.status or query.session_id or query.account or keyword:
        runs = store.runs
        ids = [i for i in ids if _matches(runs[i], query, keyword)]
    total = len(ids)
    end = total - (query.page - 1) * query.limit
    chunk = ids[max(end - query.limit, 0) : max(end, 0)]
    return total, [store.runs[i] for i in reversed(chunk)]


def account_json(email: str) -> dict[str, str]:
    return {"id": derived_id("account", email), "name": email.split("@")[0], "email": email}


def log_json(run: WorkflowRun, behaviour: Behaviour) -> dict[str, Any]:
    """A `/workflows/logs` row; `details` and `workflow_run.triggered_from` exist from 1.10.0 (recorded absent on
    1.9.2, present on 1.11.1)."""
    end_user = None if run.account_email is not None else end_user_json(run, behaviour)
    workflow_run = {
        "id": run.id,
        "version": run.version,
        "status": run.status,
        "error": run.error,
        "elapsed_time": run.elapsed_time,
        "total_tokens": run.total_tokens,
        "total_steps": run.total_steps,
        "created_at": int(run.created_at),
        "finished_at": int(run.finished_at) if run.finished_at is not None else None,
        "exceptions_count": run.exceptions_count,
    }
    row = {
        "id": derived_id("log", run.id),
        "workflow_run": workflow_run,
        "created_from": run.created_from,
        "created_by_role": "account" if run.account_email else "end_user",
        "created_by_account": account_json(run.account_email) if run.account_email else None,
        "created_by_end_user": end_user,
        "created_at": int(run.created_at),
    }
    if behaviour.app_fields_1_10:
        workflow_run["triggered_from"] = run.triggered_from
        row["details"] = None
    return row


def _steps(app: WorkflowApp, status: str) -> int:
    nodes = len(app.spec.nodes)
    return nodes if status in ("succeeded", "partial-succeeded") else app.spec.fail_index


def seeded_run(app: WorkflowApp, row: Mapping[str, Any], now: float) -> WorkflowRun:
    """One explicit row: any of id, created_at, status, error, user (session id) or account (e-mail), inputs,
    outputs, total_tokens, elapsed_time, total_steps, version, created_from, triggered_from, exceptions_count."""
    status = row.get("status", "succeeded")
    if status not in RUN_STATUSES:
        raise ValueError(f"row status {status!r} is not one of {list(RUN_STATUSES)}")
    account = row.get("account")
    created_from = row.get("created_from") or ("installed-app" if account else "service-api")
    if created_from not in CREATED_FROM:
        raise ValueError(f"row created_from {created_from!r} is not one of {list(CREATED_FROM)}")
    created = parse_time(row["created_at"], "created_at") if row.get("created_at") is not None else now
    elapsed = float(row.get("elapsed_time", 1.0))
    inputs = dict(row.get("inputs") or {})
    ok = status in ("succeeded", "partial-succeeded")
    outputs = row.get("outputs", render_outputs(app.spec, inputs) if ok else None)
    error = row.get("error", STOPPED_ERROR if status == "stopped" else None)
    return WorkflowRun(
        id=str(row.get("id") or uuid.uuid4()),
        app_id=app.id,
        workflow_id=app.spec.workflow_id,
        version=str(row.get("version", app.spec.version)),
        inputs=inputs,
        created_at=created,
        session_id=None if account else str(row.get("user", "user-1")),
        account_email=str(account) if account else None,
        created_from=created_from,
        triggered_from=str(row.get("triggered_from", "app-run")),
        status=status,
        outputs=outputs,
        error=error if not ok or status == "partial-succeeded" else None,
        elapsed_time=elapsed,
        total_tokens=int(row.get("total_tokens", 0)),
        total_steps=int(row.get("total_steps", _steps(app, status))),
        exceptions_count=int(row.get("exceptions_count", 0)),
        finished_at=None if status == "running" else created + elapsed,
        seeded=True,
    )


def _pool(value: Any, default: int, name: str) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value] or [f"{name}-0000"]
    return [f"{name}-{i:04d}" for i in range(max(int(value if value is not None else default), 1))]


def _hour_weight(moment: float) -> float:
    """Busier in (UTC) working hours, quiet at night: the acceptance rate of a uniformly drawn instant."""
    hour = (moment % 86400) / 3600
    return 0.15 + 0.85 * math.exp(-(((hour - 13.0) / 4.5) ** 2))


def generate_runs(app: WorkflowApp, spec: Mapping[str, Any]) -> list[WorkflowRun]:
    """Realistic seeded rows from a spec (see the README): the same app, spec and seed give the same rows, ids
    included. Popular users run more often (Zipf-like), versions roll out over the window, failures carry
    typical Dify error texts, latencies and tokens are log-normal around the app's own figures."""
    rng = random.Random(spec.get("seed", 1))
    count = int(spec["count"])
    start, end = parse_time(spec["start"], "start"), parse_time(spec["end"], "end")
    if count < 0 or end <= start:
        raise ValueError("generate needs count >= 0 and end after start")
    failure_rate, stopped_rate = float(spec.get("failure_rate", 0.1)), float(spec.get("stopped_rate", 0.01))
    account_rate, web_rate = float(spec.get("account_rate", 0.0)), float(spec.get("web_rate", 0.0))
    users = _pool(spec.get("sessions", spec.get("users")), 50, "user")
    accounts = [a if "@" in a else f"{a}@example.com" for a in _pool(spec.get("accounts"), 3, "member")]
    versions = [str(v) for v in spec.get("versions") or [app.spec.version]]
    errors, error_weights = zip(*ERRORS, strict=True)
    median_s = float(spec.get("median_elapsed_s", app.spec.duration_s or 1.5))
    mean_tokens = float(spec.get("mean_tokens", app.spec.tokens or 200))
    picks = rng.choices(users, cum_weights=_zipf_cumulative(len(users)), k=count)
    salt = uuid.uuid5(uuid.NAMESPACE_URL, app.id).int  # run ids are unique across apps seeded alike
    runs = []
    for n in range(count):
        created = rng.uniform(start, end)
        while rng.random() > _hour_weight(created):
            created = rng.uniform(start, end)
        era = min(int((created - start) / (end - start) * len(versions)), len(versions) - 1)
        version = versions[era - 1 if era and rng.random() < 0.1 else era]
        roll = rng.random()
        status = "failed" if roll < failure_rate else "stopped" if roll < failure_rate + stopped_rate else "succeeded"
        by_account = rng.random() < account_rate
        elapsed = round(rng.lognormvariate(math.log(median_s), 0.5) * (0.6 if status != "succeeded" else 1.0), 3)
        tokens = int(rng.lognormvariate(math.log(mean_tokens), 0.4))
        inputs = sample_inputs(app.user_input_form, rng.choice, n)
        runs.append(
            WorkflowRun(
                id=str(uuid.UUID(int=rng.getrandbits(128) ^ salt, version=4)),
                app_id=app.id,
                workflow_id=app.spec.workflow_id,
                version=version,
                inputs=inputs,
                created_at=created,
                session_id=None if by_account else picks[n],
                account_email=rng.choice(accounts) if by_account else None,
                created_from="installed-app" if by_account else "web-app" if rng.random() < web_rate else "service-api",
                status=status,
                outputs=render_outputs(app.spec, inputs) if status == "succeeded" else None,
                error=None
                if status == "succeeded"
                else STOPPED_ERROR
                if status == "stopped"
                else rng.choices(errors, weights=error_weights)[0],
                elapsed_time=elapsed,
                total_tokens=tokens if status == "succeeded" else tokens // 3,
                total_steps=_steps(app, status) if status != "stopped" else rng.randint(1, len(app.spec.nodes)),
                finished_at=created + elapsed,
                seeded=True,
            )
        )
    return runs


def _zipf_cumulative(n: int) -> list[float]:
    total, out = 0.0, []
    for i in range(n):
        total += 1.0 / (i + 1) ** 0.8
        out.append(total)
    return out
