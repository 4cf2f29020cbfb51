"""The retrieval gate: do the standby colour's answers to golden queries hold up? Pure: results in, verdict out.

Each golden query names the source keys it must find in its top k. For each colour, a query is a **hit** when
every expected key is among the first k records (matched on the record's `source_key` metadata, or, for a
document without it, on its name), its **rank** per key is the best position that key reached, and its **score**
is that record's score (None for `keyword_search`, which Dify does not score). The **hit rate** is hits / queries.

The verdict fails when the standby's hit rate is below `min_hit_rate`, when it is worse than the active colour's
by more than `max_drop`, or when any standby query could not be retrieved at all (the gate cannot vouch for
answers it never saw). An active colour that could not be retrieved is not compared (said in the reasons): an
outage of the colour being replaced must not block the one replacing it.

The Dagster wiring asks Dify (`DifyDatasetClient.retrieve` with `retrieval_model_for`), passes what each colour
returned here in query order, and shows `GateVerdict.table()` in the check's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EPSILON = 1e-9
TABLE_COLUMNS = (
    "query",
    "expected",
    "top_k",
    "standby_hit",
    "standby_found",
    "standby_rank",
    "standby_score",
    "active_hit",
    "active_found",
    "active_rank",
    "active_score",
)


@dataclass(frozen=True)
class GoldenQuery:
    query: str
    expected: tuple[str, ...]
    top_k: int


@dataclass(frozen=True)
class Retrieved:
    """One record as the gate needs it (from `RetrievalRecord`): its 1-based rank and what identifies its source."""

    rank: int
    source_key: str | None
    document_name: str
    score: float | None = None

    def matches(self, key: str) -> bool:
        return self.source_key == key if self.source_key is not None else self.document_name == key


@dataclass(frozen=True)
class ColourRetrieval:
    """What one colour returned for one query: its records, or the error that prevented them."""

    records: tuple[Retrieved, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class QueryScore:
    ranks: tuple[tuple[str, int | None], ...]  # expected key -> best rank within top k, None if not found
    score: float | None  # the score of the best-ranked expected record
    error: str | None = None

    @property
    def found(self) -> int:
        return sum(rank is not None for _, rank in self.ranks)

    @property
    def hit(self) -> bool:
        return self.error is None and self.found == len(self.ranks)


def score_query(query: GoldenQuery, outcome: ColourRetrieval) -> QueryScore:
    if outcome.error is not None:
        return QueryScore(tuple((key, None) for key in query.expected), None, outcome.error)
    within = sorted((r for r in outcome.records if r.rank <= query.top_k), key=lambda r: r.rank)
    ranks = []
    best: Retrieved | None = None
    for key in query.expected:
        record = next((r for r in within if r.matches(key)), None)
        ranks.append((key, None if record is None else record.rank))
        if record is not None and (best is None or record.rank < best.rank):
            best = record
    return QueryScore(tuple(ranks), None if best is None else best.score)


@dataclass(frozen=True)
class GateRow:
    query: GoldenQuery
    standby: QueryScore
    active: QueryScore | None

    def as_row(self) -> dict[str, str]:
        row = {"query": self.query.query, "expected": ", ".join(self.query.expected), "top_k": str(self.query.top_k)}
        row.update(_score_cells("standby", self.standby))
        row.update(_score_cells("active", self.active))
        return row


def _score_cells(colour: str, score: QueryScore | None) -> dict[str, str]:
    if score is None:
        return {f"{colour}_{cell}": "-" for cell in ("hit", "found", "rank", "score")}
    ranks = ", ".join(f"{key}: {'-' if rank is None else rank}" for key, rank in score.ranks)
    return {
        f"{colour}_hit": f"error: {score.error}" if score.error else ("yes" if score.hit else "no"),
        f"{colour}_found": f"{score.found}/{len(score.ranks)}",
        f"{colour}_rank": ranks,
        f"{colour}_score": "n/a" if score.score is None else f"{score.score:.3f}",
    }


@dataclass(frozen=True)
class GateVerdict:
    rows: tuple[GateRow, ...]
    standby_hit_rate: float
    active_hit_rate: float | None
    min_hit_rate: float
    max_drop: float
    reasons: tuple[str, ...]  # why it failed, plus notes (an active colour not compared)
    passed: bool

    def table(self) -> list[dict[str, str]]:
        """One row per query, columns `TABLE_COLUMNS`, for `MaterializeResult` / check metadata."""
        return [row.as_row() for row in self.rows]

    def summary(self) -> str:
        active = "not compared" if self.active_hit_rate is None else f"{self.active_hit_rate:.0%}"
        head = "passed" if self.passed else "failed"
        text = f"Retrieval {head}: standby hit rate {self.standby_hit_rate:.0%} (active {active}, minimum "
        text += f"{self.min_hit_rate:.0%}, allowed drop {self.max_drop:.0%}) over {len(self.rows)} golden queries."
        return " ".join([text, *self.reasons])


def _queries(count: int) -> str:
    return f"{count} {'query' if count == 1 else 'queries'}"


def _rate(scores: Sequence[QueryScore]) -> float:
    return sum(score.hit for score in scores) / len(scores)


def evaluate_retrieval(
    queries: Sequence[GoldenQuery],
    standby: Sequence[ColourRetrieval],
    active: Sequence[ColourRetrieval] | None,
    *,
    min_hit_rate: float,
    max_drop: float,
) -> GateVerdict:
    """The verdict over all golden queries; `standby` and `active` are what each colour returned, in query order
    (`active` None: nothing to compare with, e.g. the first sync)."""
    if not queries:
        raise ValueError("the retrieval gate needs at least one golden query")
    if len(standby) != len(queries) or (active is not None and len(active) != len(queries)):
        raise ValueError("one retrieval per golden query and colour is required")
    standby_scores = [score_query(q, r) for q, r in zip(queries, standby, strict=True)]
    active_scores = None if active is None else [score_query(q, r) for q, r in zip(queries, active, strict=True)]
    standby_rate = _rate(standby_scores)
    failures: list[str] = []
    notes: list[str] = []
    errors = [s.error for s in standby_scores if s.error]
    if errors:
        failures.append(f"{_queries(len(errors))} could not be retrieved from the standby colour ({errors[0]}).")
    if standby_rate + EPSILON < min_hit_rate:
        failures.append(f"The standby hit rate {standby_rate:.0%} is below the minimum {min_hit_rate:.0%}.")
    active_rate = None
    if active_scores is not None:
        active_errors = [s.error for s in active_scores if s.error]
        if active_errors:
            notes.append(f"Active colour not compared: {_queries(len(active_errors))} failed ({active_errors[0]}).")
        else:
            active_rate = _rate(active_scores)
            if standby_rate + max_drop + EPSILON < active_rate:
                failures.append(
                    f"The standby hit rate {standby_rate:.0%} is {active_rate - standby_rate:.0%} below the active "
                    f"colour's {active_rate:.0%}, more than the allowed drop of {max_drop:.0%}."
                )
    rows = tuple(
        GateRow(q, s, None if active_scores is None else active_scores[i])
        for i, (q, s) in enumerate(zip(queries, standby_scores, strict=True))
    )
    reasons = (*failures, *notes)
    return GateVerdict(rows, standby_rate, active_rate, min_hit_rate, max_drop, reasons, not failures)


def retrieval_model_for(
    dataset_settings: Mapping[str, Any], top_k: int, search_method: str | None = None
) -> dict[str, Any]:
    """The `retrieval_model` to send: the dataset's own settings (`Dataset.retrieval_model`) with the golden query's
    `top_k`, and `search_method` forced when set. A model sent replaces the dataset's whole, and
    from Dify 1.10 must carry its four required fields, so missing ones get the dataset defaults Dify shows.
    Forcing `keyword_search` (what a Dify without an embedding model runs) also turns reranking off: a rerank
    needs a model too."""
    model = dict(dataset_settings)
    model.setdefault("search_method", "semantic_search")
    model.setdefault("reranking_enable", False)
    model.setdefault("score_threshold_enabled", False)
    model["top_k"] = top_k
    if search_method is not None:
        model["search_method"] = search_method
        if search_method == "keyword_search":
            model["reranking_enable"] = False
    return model
