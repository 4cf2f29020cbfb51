"""A finished Dify run as text a person reads in the Dagster UI: a one-line summary and the outputs as Markdown.

Pure. String outputs are usually an LLM's Markdown and are shown as they are; other values are shown as JSON
blocks. Long values are cut (the full outputs are also in the `outputs_json` metadata) so one run cannot bloat
the event log.
"""

from __future__ import annotations

import json
from typing import Any

from difyops_dagster.dify.models import WorkflowRun

MAX_VALUE_CHARS = 4000


def summarize_run(run: WorkflowRun) -> str:
    return (
        f"Dify run {run.id} {run.status} in {run.elapsed_time:.2f}s, {run.total_tokens} tokens, {run.total_steps} steps"
    )


def outputs_markdown(run: WorkflowRun, streamed_text: str = "") -> str:
    """Status line, Dify's error (if any), then one section per output; the streamed text when there are none."""
    lines = [
        f"**{run.status}** · {run.elapsed_time:.2f} s · {run.total_tokens} tokens · {run.total_steps} steps",
        "",
    ]
    if run.error:
        lines += ["**Error:**", "", *[f"> {line}" for line in run.error.splitlines() or [""]], ""]
    for name, value in (run.outputs or {}).items():
        lines += [f"### {name}", "", _value_markdown(value), ""]
    if not run.outputs and streamed_text:
        lines += ["### streamed text", "", _cut(streamed_text), ""]
    if not run.outputs and not streamed_text and not run.error:
        lines += ["_No outputs._", ""]
    return "\n".join(lines).rstrip() + "\n"


def _value_markdown(value: Any) -> str:
    if isinstance(value, str):
        return _cut(value) if value.strip() else "_(empty)_"
    return "```json\n" + _cut(json.dumps(value, ensure_ascii=False, indent=2, default=str)) + "\n```"


def _cut(text: str) -> str:
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return f"{text[:MAX_VALUE_CHARS]}\n\n… ({len(text) - MAX_VALUE_CHARS} more characters in outputs_json)"
