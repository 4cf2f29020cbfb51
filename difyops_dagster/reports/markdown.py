"""A `WorkflowReport` as text a person reads: the Markdown report, its title, and the headline a notification
carries. Pure: text in, text out.

Numbers are written for reading, not for machines (the CSV and JSON keep the raw values): counts with thousands
separators (`10,001`), amounts without float noise (`0.000488`, never `0.00048800000000000004`), "x of y"
that never promises more than there is, and a measure that is unknown says why ("no runs", "node executions
not fetched").
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from difyops_dagster.reports.build import WorkflowReport

MARKDOWN_RUNS = 20
CELL_CHARS = 160
TREND_COLUMNS = ["bucket", "runs", "failed", "partial", "stopped", "failure_rate", "tokens", "p95_s"]


def plain(value: Any) -> Any:
    """JSON-safe scalars: NaN and pandas' NA become None, numpy numbers become Python numbers."""
    if value is None:
        return None
    if isinstance(value, dict | list | str | bool):
        return value
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def json_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def number(value: float | int) -> str:
    """`12,345`; `0.000488`; `1,234.5`: at most ten decimals, trailing zeros dropped."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.10f}".rstrip("0").rstrip(".")


def _cell(value: Any) -> str:
    value = plain(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value)
    text = json_cell(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def markdown_table(frame: pd.DataFrame, limit: int | None = None) -> str:
    """A GitHub-style table; cells are single-line, pipes escaped, long values cut, numbers readable."""
    if frame.empty:
        return "_none_"
    shown = frame.head(limit) if limit else frame
    lines = ["| " + " | ".join(map(str, shown.columns)) + " |", "|" + "---|" * len(shown.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    if limit and len(frame) > limit:
        lines.append(f"\n_{len(frame) - limit:,} more in the CSV / JSON files._")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.3f}".rstrip("0").rstrip(".") + unit


def _of(part: int, whole: int) -> str:
    return f"all {whole:,}" if part == whole else f"{part:,} of {whole:,}"


def _unknown(report: WorkflowReport, what: str) -> str:
    """Why a node-derived measure is missing: no runs, or node executions not fetched (the notes say why)."""
    if report.totals.runs == 0:
        return "none (no runs)"
    return f"n/a ({what} not fetched" + ("; see notes)" if report.notes else ")")


def cost_text(report: WorkflowReport) -> str:
    totals = report.totals
    if totals.cost is None:
        return _unknown(report, "node executions")
    covered = "" if totals.cost_runs == totals.runs else f" (over {totals.cost_runs:,} of {totals.runs:,} runs)"
    return f"{number(totals.cost)} {totals.currency or ''}".rstrip() + covered


def tokens_text(report: WorkflowReport) -> str:
    t = report.totals
    if t.prompt_tokens is None or t.completion_tokens is None:
        return f"{t.total_tokens:,}"
    over = "" if t.split_runs == t.runs else f" over {t.split_runs:,} of {t.runs:,} runs"
    return f"{t.total_tokens:,} (prompt {t.prompt_tokens:,}, completion {t.completion_tokens:,}{over})"


def speed_text(report: WorkflowReport) -> str:
    speed = report.totals.completion_tokens_per_second
    if speed is None:
        return "none (no runs)" if report.totals.runs == 0 else "n/a (needs node executions with model usage)"
    return _num(speed, " completion tokens/s of model time")


def latency_text(report: WorkflowReport) -> str:
    t = report.totals
    values = (t.latency_mean_s, t.latency_p50_s, t.latency_p95_s, t.latency_p99_s, t.latency_max_s)
    return " / ".join(_num(v, " s") for v in values)


def enriched_text(report: WorkflowReport) -> str:
    t = report.totals
    return f"run details {_of(t.detail_runs, t.runs)}; node executions {_of(t.cost_runs, t.runs)}"


def statuses_text(report: WorkflowReport) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in report.totals.statuses.items()) or "none"


def title(report: WorkflowReport) -> str:
    return f"Workflow report {report.app} {report.window.kind} {report.window.display} ({report.window.timezone})"


def headline(report: WorkflowReport) -> list[str]:
    """The few lines a notification carries."""
    t = report.totals
    lines = [
        f"Runs: {t.runs:,} (failed {t.failed:,}, success rate {_pct(t.success_rate)}; {statuses_text(report)})",
        f"Users: {t.users:,}, sessions: {t.sessions:,}, runs/session: {_num(t.runs_per_session)}",
        f"Latency mean/p50/p95/p99/max: {latency_text(report)}",
        f"Tokens: {tokens_text(report)}; speed {speed_text(report)}",
        f"Cost: {cost_text(report)}",
    ]
    if t.slowest_node:
        lines.append(f"Slowest node: {t.slowest_node}")
    if t.most_failing_node:
        lines.append(f"Most failing node: {t.most_failing_node}")
    if report.comparison is not None:
        changes = "; ".join(f"{r.measure} {r.change}" for r in report.comparison.itertuples(index=False))
        lines.append(f"Against the week before: {changes}")
    for row in report.failures.head(3).itertuples(index=False):
        where = f" (node {row.node})" if isinstance(row.node, str) else ""
        lines.append(f"Failure x{row.runs:,}{where}: {_cell(row.error)}")
    lines += [f"Note: {note}" for note in report.notes]
    return lines


def render_markdown(report: WorkflowReport, chart_link: str | None = None) -> str:
    t = report.totals
    shown_runs = min(MARKDOWN_RUNS, t.runs)
    no_nodes = _unknown(report, "node executions")
    parts = [
        f"# {title(report)}",
        "",
        f"Window: {report.window.start.isoformat()} to {report.window.end.isoformat()} (end excluded)",
        "",
        "| measure | value |",
        "|---|---|",
        f"| runs | {t.runs:,} ({statuses_text(report)}) |",
        f"| success rate | {_pct(t.success_rate)} |",
        f"| failure rate | {_pct(t.failure_rate)} |",
        f"| distinct users | {t.users:,} |",
        f"| sessions | {t.sessions:,} |",
        f"| runs per session | {_num(t.runs_per_session)} |",
        f"| latency mean / p50 / p95 / p99 / max | {latency_text(report)} |",
        f"| tokens | {tokens_text(report)} |",
        f"| token speed | {speed_text(report)} |",
        f"| cost | {cost_text(report)} |",
        f"| slowest node | {t.slowest_node or no_nodes} |",
        f"| most failing node | {t.most_failing_node or (no_nodes if report.nodes.empty else 'none failed')} |",
        f"| enriched | {enriched_text(report) if t.runs else 'none (no runs)'} |",
    ]
    if report.notes:
        parts += ["", "## Notes", "", *[f"- {note}" for note in report.notes]]
    if report.comparison is not None:
        parts += ["", "## Compared with the week before", "", markdown_table(report.comparison)]
    if chart_link:
        parts += ["", f"![runs and failure rate]({chart_link})"]
    parts += [
        "",
        "## Trend" if report.window.kind == "weekly" else "## By hour",
        "",
        markdown_table(report.trend[TREND_COLUMNS]),
        "",
        "## Nodes",
        "",
        markdown_table(report.nodes),
        "",
        "## Failures by error",
        "",
        markdown_table(report.failures, 10),
        "",
        "## Runs per app version",
        "",
        markdown_table(report.versions),
        "",
        "## Slowest runs",
        "",
        markdown_table(report.slowest),
        "",
        "## Users",
        "",
        markdown_table(report.per_user, 20),
        "",
        f"## Latest runs (inputs and outputs, {_of(shown_runs, t.runs)})",
        "",
        markdown_table(
            report.runs[["created_at", "status", "user", "elapsed_s", "inputs", "outputs", "error"]], MARKDOWN_RUNS
        ),
        "",
    ]
    return "\n".join(parts)
