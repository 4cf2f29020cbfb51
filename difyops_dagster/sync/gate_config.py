"""Settings of what follows and what gates a promotion: `sync.apps` and `sync.retrieval_checks`.

Fields of `SyncSettings` (sync/config.py), so every message below arrives prefixed with its path (`sync.apps: …`,
`sync.retrieval_checks.queries.0.expected: …`) by `settings.parse_settings`. Both settings only mean something in
blue/green mode (there is no other colour to switch to or compare with): `SyncSettings` says so, and `Settings`
refuses `sync.apps` without the `dify.console` login that switches them.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from difyops_dagster.config_model import SettingsModel
from difyops_dagster.sync.retrieval_gate import GoldenQuery

APPS_DESCRIPTION = (
    "Dify app ids (the UUID in the app's URL) that promotion and rollback switch to the active colour: the "
    "knowledge-retrieval nodes of workflow and chatflow apps, the context of chat, completion and agent apps. Only "
    "this sync's two dataset ids are replaced. Needs the `dify.console` login."
)
RETRIEVAL_CHECKS_DESCRIPTION = (
    "Golden queries run against the standby colour (and the active one for comparison) before a promotion; the "
    "`retrieval_quality` check blocks it when they are found less often than required."
)
MAX_QUERY_CHARS = 250  # Dify refuses longer queries (hit_testing_service.py)
MAX_TOP_K = 100


def _app_ids(value: list[str]) -> list[str]:
    seen: list[str] = []
    for item in value:
        try:
            app_id = str(uuid.UUID(str(item).strip()))
        except ValueError:
            raise ValueError(
                f"a Dify app id is a UUID (the id in the app's URL, /app/<id>/workflow), got {item!r}"
            ) from None
        if app_id in seen:
            raise ValueError(f"app {app_id} is listed twice")
        seen.append(app_id)
    return seen


AppIds = Annotated[list[str], AfterValidator(_app_ids)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class GoldenQuerySettings(SettingsModel):
    """One golden query and the source keys it must find."""

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The question, as a user asks it.")
    expected: Annotated[list[str], BeforeValidator(_one_or_many)] = Field(
        description="Source keys (the S3 keys the sync writes as `source_key` metadata) that must all be among the "
        "top k; one key may be written as a string.",
    )
    top_k: int = Field(default=3, ge=1, le=MAX_TOP_K, description="How many retrieved chunks are looked at.")

    @field_validator("expected")
    @classmethod
    def _expected(cls, value: list[str]) -> list[str]:
        keys = [key.strip() for key in value]
        if not keys or any(not key for key in keys):
            raise ValueError("name at least one source key, e.g. [docs/refunds.md], and no empty ones")
        if len(set(keys)) != len(keys):
            raise ValueError("a source key is listed twice")
        return keys

    def to_gate(self) -> GoldenQuery:
        return GoldenQuery(self.query, tuple(self.expected), self.top_k)


class RetrievalChecks(SettingsModel):
    """The retrieval gate of a blue/green promotion (sync/retrieval_gate.py says how it decides)."""

    queries: list[GoldenQuerySettings] = Field(min_length=1, description="The golden queries (at least one).")
    min_hit_rate: float = Field(
        default=1.0, ge=0, le=1, description="Share of golden queries the standby must find (1 = every one)."
    )
    max_drop: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="How much lower than the active colour's the standby's hit rate may be (0.1 = ten points).",
    )
    search_method: Literal["keyword_search", "semantic_search", "full_text_search", "hybrid_search"] | None = Field(
        default=None,
        description="Force a search method; absent: each dataset's own retrieval settings. `keyword_search` works on "
        "a Dify without an embedding model.",
    )

    @field_validator("queries")
    @classmethod
    def _distinct(cls, value: list[GoldenQuerySettings]) -> list[GoldenQuerySettings]:
        seen: set[str] = set()
        for item in value:
            if item.query in seen:
                raise ValueError(f"the golden query {item.query!r} is listed twice")
            seen.add(item.query)
        return value

    def golden_queries(self) -> tuple[GoldenQuery, ...]:
        return tuple(item.to_gate() for item in self.queries)
