"""The node view of a window: how each node of the workflow did, from the runs' stored node executions.

Pure pandas over the `node_runs` records the fetch stored per run (title, type, status, elapsed, tokens, cost).
A node is its title and type, the names a person sees in Dify's editor; two nodes of one workflow sharing a
title and a type are counted together. Runs without node executions (not fetched, or older than a cap) are
simply absent, and the report says over how many runs the table is.

- *failures* are node executions with status `failed` or `exception` (Dify's status for a failed node whose
  workflow went on along its fail branch);
- the *slowest node* has the highest p95 latency; the *most failing node* has the most failures (ties: the
  higher failure rate, then the title).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from difyops_dagster.reports.rows import FAILED_NODE_STATUSES

COLUMNS = ["node", "type", "runs", "failures", "failure_rate", "p50_s", "p95_s", "total_s", "tokens", "cost"]


@dataclass(frozen=True)
class NodeHighlights:
    slowest: str | None  # "LLM (llm): p95 4.2 s"
    most_failing: str | None  # "HTTP Request (http-request): 12 of 480 failed"


def node_executions(frame: pd.DataFrame) -> pd.DataFrame:
    """One line per node execution of the window's runs: run_id, node, type, status, elapsed_s, tokens, cost."""
    records = [
        {
            "run_id": run_id,
            "node": node.get("title") or "(untitled)",
            "type": node.get("type") or "",
            "status": node.get("status") or "unknown",
            "elapsed_s": float(node.get("elapsed_s") or 0.0),
            "tokens": int(node.get("tokens") or 0),
            "cost": float(node.get("cost") or 0.0),
        }
        for run_id, nodes in zip(frame["run_id"], frame["node_runs"], strict=True)
        if isinstance(nodes, list)
        for node in nodes
    ]
    return pd.DataFrame.from_records(
        records, columns=["run_id", "node", "type", "status", "elapsed_s", "tokens", "cost"]
    )


def per_node(executions: pd.DataFrame) -> pd.DataFrame:
    """The per-node table, the nodes where most time went first."""
    if executions.empty:
        return pd.DataFrame(columns=COLUMNS)
    work = executions.assign(failed=executions["status"].isin(FAILED_NODE_STATUSES))
    grouped = work.groupby(["node", "type"], sort=False)
    table = pd.DataFrame(
        {
            "runs": grouped.size(),
            "failures": grouped["failed"].sum(),
            "p50_s": grouped["elapsed_s"].quantile(0.5).round(3),
            "p95_s": grouped["elapsed_s"].quantile(0.95).round(3),
            "total_s": grouped["elapsed_s"].sum().round(3),
            "tokens": grouped["tokens"].sum(),
            "cost": grouped["cost"].sum().round(10),
        }
    ).reset_index()
    table["failure_rate"] = (table["failures"] / table["runs"]).round(4)
    table = table.sort_values(["total_s", "node"], ascending=[False, True], kind="stable")
    return table[COLUMNS].reset_index(drop=True)


def node_highlights(table: pd.DataFrame) -> NodeHighlights:
    if table.empty:
        return NodeHighlights(None, None)
    slow = table.sort_values(["p95_s", "node"], ascending=[False, True], kind="stable").iloc[0]
    runs = int(slow["runs"])
    slowest = f"{slow['node']} ({slow['type']}): p95 {slow['p95_s']:g} s over {runs:,} run{'s' if runs != 1 else ''}"
    failing = table[table["failures"] > 0]
    if failing.empty:
        return NodeHighlights(slowest, None)
    worst = failing.sort_values(
        ["failures", "failure_rate", "node"], ascending=[False, False, True], kind="stable"
    ).iloc[0]
    most_failing = f"{worst['node']} ({worst['type']}): {int(worst['failures']):,} of {int(worst['runs']):,} failed"
    return NodeHighlights(slowest, most_failing)
