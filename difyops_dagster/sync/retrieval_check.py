"""The `retrieval_quality` check of a colour's `synced_dataset`: the golden queries of `sync.retrieval_checks`
asked of that colour (the standby) and of the active one, judged by `retrieval_gate.evaluate_retrieval`.

It runs inside `synced_dataset_<colour>` after the indexing wait, like the structural gate checks (checks.py), and
fails the step when it fails, so `active_colour` never promotes a colour whose answers got worse; promotion also
requires it among the checks that passed in its own run (`gate_check_names`). Each query goes to Dify's
`POST /datasets/{id}/retrieve` with the dataset's own retrieval settings and the query's `top_k`
(`retrieval_model_for`), or the forced `search_method`. A Dify error on one query is that query's error in the
table, never an exception: the gate then fails for the standby (it cannot vouch for what it never saw) and does
not compare an active colour it could not read.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from difyops_dagster.dify.client import DifyDatasetClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.sync.checks import GATE_CHECKS
from difyops_dagster.sync.colour import load_state
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster.sync.gate_config import RetrievalChecks
from difyops_dagster.sync.metadata import table
from difyops_dagster.sync.retrieval_gate import (
    TABLE_COLUMNS,
    ColourRetrieval,
    GateVerdict,
    Retrieved,
    evaluate_retrieval,
    retrieval_model_for,
)

RETRIEVAL_CHECK = "retrieval_quality"


def gate_check_names(settings: SyncSettings) -> list[str]:
    """The checks of a `synced_dataset` that must pass in a run for `active_colour` to promote it."""
    return [*GATE_CHECKS, *([RETRIEVAL_CHECK] if settings.retrieval_checks else [])]


def retrieval_check_specs(settings: SyncSettings, asset: dg.AssetKey | str) -> list[dg.AssetCheckSpec]:
    if settings.retrieval_checks is None:
        return []
    return [
        dg.AssetCheckSpec(
            RETRIEVAL_CHECK,
            asset=asset,
            description="The golden queries of `sync.retrieval_checks` find their source keys in this colour's top "
            "k at least `min_hit_rate` of the time, and not less often than the active colour by more than "
            "`max_drop`. A failure fails the step, so this colour is not promoted; the table shows each query.",
        )
    ]


def _ask(client: DifyDatasetClient, dataset_id: str, checks: RetrievalChecks) -> list[ColourRetrieval]:
    """What `dataset_id` returns for each golden query, in order (an error per query when Dify refuses)."""
    try:
        own = client.get_dataset(dataset_id).retrieval_model
    except DifyError as exc:
        return [ColourRetrieval(error=str(exc)) for _ in checks.queries]
    answers = []
    for query in checks.golden_queries():
        model = retrieval_model_for(own, query.top_k, checks.search_method)
        try:
            records = client.retrieve(dataset_id, query.query, model)
        except DifyError as exc:
            answers.append(ColourRetrieval(error=str(exc)))
            continue
        found = tuple(Retrieved(r.rank, r.source_key, r.document_name, r.score) for r in records)
        answers.append(ColourRetrieval(found))
    return answers


def judge_retrieval(
    client: DifyDatasetClient, checks: RetrievalChecks, standby_id: str, active_id: str | None
) -> GateVerdict:
    """The verdict for the standby dataset, compared with the active one (None: no colour serves yet)."""
    standby = _ask(client, standby_id, checks)
    active = None if active_id is None else _ask(client, active_id, checks)
    return evaluate_retrieval(
        checks.golden_queries(), standby, active, min_hit_rate=checks.min_hit_rate, max_drop=checks.max_drop
    )


def retrieval_check_result(verdict: GateVerdict) -> dg.AssetCheckResult:
    metadata: dict[str, Any] = {
        "summary": verdict.summary(),
        "standby_hit_rate": verdict.standby_hit_rate,
        "active_hit_rate": "not compared" if verdict.active_hit_rate is None else verdict.active_hit_rate,
        "queries": table(verdict.table(), list(TABLE_COLUMNS)),
    }
    return dg.AssetCheckResult(
        check_name=RETRIEVAL_CHECK,
        passed=verdict.passed,
        metadata=metadata,
        description=None if verdict.passed else verdict.summary(),
    )


def retrieval_check_results(
    settings: SyncSettings, client: DifyDatasetClient, s3_client: Any, target: str
) -> list[dg.AssetCheckResult]:
    """`retrieval_quality` of colour `target` (the standby this run synced) against the active colour, or nothing
    when `sync.retrieval_checks` is not set."""
    if settings.retrieval_checks is None:
        return []
    dataset_ids = settings.targets()
    active = load_state(s3_client, settings.bucket, settings.state_key).active
    active_id = dataset_ids[active] if active and active != target else None
    verdict = judge_retrieval(client, settings.retrieval_checks, dataset_ids[target], active_id)
    return [retrieval_check_result(verdict)]
