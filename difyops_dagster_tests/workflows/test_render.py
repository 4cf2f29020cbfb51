"""A finished run reads well in the UI: a status line, Dify's error quoted, each output under its name (text as
Markdown, anything else as a JSON block), the streamed text when there are no outputs, long values cut.
"""

from __future__ import annotations

from difyops_dagster.dify.models import WorkflowRun
from difyops_dagster.workflows.render import MAX_VALUE_CHARS, outputs_markdown, summarize_run


def run(**fields) -> WorkflowRun:
    return WorkflowRun(
        **{"id": "r1", "status": "succeeded", "elapsed_time": 1.5, "total_tokens": 42, "total_steps": 3, **fields}
    )


def test_text_outputs_are_shown_as_markdown_under_their_names():
    text = outputs_markdown(run(outputs={"summary": "**Bold** point", "count": 3, "tags": ["a", "b"]}))
    assert text.startswith("**succeeded** · 1.50 s · 42 tokens · 3 steps\n")
    assert "### summary\n\n**Bold** point\n" in text
    assert "### count\n\n```json\n3\n```" in text
    assert '### tags\n\n```json\n[\n  "a",\n  "b"\n]\n```' in text


def test_a_failed_run_quotes_difys_error_line_by_line():
    text = outputs_markdown(run(status="failed", error="Node LLM run failed:\nquota exceeded"))
    assert "**Error:**\n\n> Node LLM run failed:\n> quota exceeded\n" in text


def test_streamed_text_stands_in_when_the_run_has_no_outputs():
    assert "### streamed text\n\nHello there" in outputs_markdown(run(outputs={}), "Hello there")
    assert "_No outputs._" in outputs_markdown(run(outputs=None))


def test_long_values_are_cut_and_say_where_the_rest_is():
    text = outputs_markdown(run(outputs={"long": "x" * (MAX_VALUE_CHARS + 10)}))
    assert "x" * MAX_VALUE_CHARS + "\n\n… (10 more characters in outputs_json)" in text
    assert "x" * (MAX_VALUE_CHARS + 1) not in text


def test_non_ascii_outputs_stay_readable():
    assert '"摘要"' in outputs_markdown(run(outputs={"data": {"title": "摘要"}}))


def test_the_log_summary_names_run_status_time_tokens_and_steps():
    assert summarize_run(run()) == "Dify run r1 succeeded in 1.50s, 42 tokens, 3 steps"
