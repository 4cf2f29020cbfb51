"""`sync.apps` and `sync.retrieval_checks` are checked when the settings load, with messages that name the setting:
app ids are UUIDs listed once, golden queries fit Dify's 250-character limit and name at least one source key, and
the rates are shares between 0 and 1. Validated here inside a stand-in `sync` section shaped as SyncSettings will
nest them, through the same `{path}: {message}` rendering `settings.parse_settings` uses."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError

from difyops_dagster.config_model import SettingsModel
from difyops_dagster.sync.gate_config import AppIds, RetrievalChecks
from difyops_dagster.sync.retrieval_gate import GoldenQuery

APP = "a9900000-0000-4000-8000-000000000001"


class _Sync(SettingsModel):
    apps: AppIds = Field(default_factory=list)
    retrieval_checks: RetrievalChecks | None = None


class _Settings(SettingsModel):
    sync: _Sync


def load(**sync) -> _Sync:
    return _Settings.model_validate({"sync": sync}).sync


def problems(**sync) -> list[str]:
    with pytest.raises(ValidationError) as error:
        load(**sync)
    return [
        ".".join(str(p) for p in e["loc"]) + ": " + e["msg"].removeprefix("Value error, ")
        for e in error.value.errors(include_input=False, include_url=False)
    ]


def test_both_settings_are_optional_and_off_by_default():
    sync = load()
    assert sync.apps == [] and sync.retrieval_checks is None


def test_app_ids_are_normalised_uuids():
    assert load(apps=[APP.upper(), " 06ee0000-0000-4000-8000-000000000002 "]).apps == [
        APP,
        "06ee0000-0000-4000-8000-000000000002",
    ]


@pytest.mark.parametrize(
    ("apps", "message"),
    [
        ([APP, "support-bot"], "sync.apps: a Dify app id is a UUID (the id in the app's URL, /app/<id>/workflow), "
                               "got 'support-bot'"),
        ([APP, APP.upper()], f"sync.apps: app {APP} is listed twice"),
        ("not-a-list", "sync.apps: Input should be a valid list"),
    ],
)  # fmt: skip
def test_bad_app_ids_name_the_setting(apps, message):
    assert problems(apps=apps) == [message]


def test_golden_queries_become_the_gates_queries_with_defaults():
    queries = [
        {"query": "refund time", "expected": "docs/refunds.md"},
        {"query": "zones", "expected": ["a", "b"], "top_k": 5},
    ]
    checks = load(retrieval_checks={"queries": queries, "search_method": "keyword_search"}).retrieval_checks
    assert checks.golden_queries() == (
        GoldenQuery("refund time", ("docs/refunds.md",), 3),
        GoldenQuery("zones", ("a", "b"), 5),
    )
    assert (checks.min_hit_rate, checks.max_drop, checks.search_method) == (1.0, 0.0, "keyword_search")


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ({"queries": []}, "sync.retrieval_checks.queries: List should have at least 1 item after validation, not 0"),
        ({"queries": [{"query": "q", "expected": []}]},
         "sync.retrieval_checks.queries.0.expected: name at least one source key, e.g. [docs/refunds.md], "
         "and no empty ones"),
        ({"queries": [{"query": "q", "expected": ["a", "a"]}]},
         "sync.retrieval_checks.queries.0.expected: a source key is listed twice"),
        ({"queries": [{"query": "x" * 251, "expected": "a"}]},
         "sync.retrieval_checks.queries.0.query: String should have at most 250 characters"),
        ({"queries": [{"query": "q", "expected": "a", "top_k": 0}]},
         "sync.retrieval_checks.queries.0.top_k: Input should be greater than or equal to 1"),
        ({"queries": [{"query": "q", "expected": "a"}, {"query": "q", "expected": "b"}]},
         "sync.retrieval_checks.queries: the golden query 'q' is listed twice"),
        ({"queries": [{"query": "q", "expected": "a"}], "min_hit_rate": 80},
         "sync.retrieval_checks.min_hit_rate: Input should be less than or equal to 1"),
        ({"queries": [{"query": "q", "expected": "a"}], "max_drop": -0.1},
         "sync.retrieval_checks.max_drop: Input should be greater than or equal to 0"),
        ({"queries": [{"query": "q", "expected": "a"}], "search_method": "vector"},
         "sync.retrieval_checks.search_method: Input should be 'keyword_search', 'semantic_search', "
         "'full_text_search' or 'hybrid_search'"),
        ({"queries": [{"query": "q", "expected": "a", "k": 3}]},
         "sync.retrieval_checks.queries.0.k: Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_bad_retrieval_checks_name_the_setting(checks, message):
    assert problems(retrieval_checks=checks) == [message]


def test_values_may_come_from_the_environment_like_every_other_setting():
    previous = SettingsModel._environ
    SettingsModel._environ = {"MIN_HIT": "0.75"}
    try:
        checks = load(
            retrieval_checks={"queries": [{"query": "q", "expected": "a"}], "min_hit_rate": {"env": "MIN_HIT"}}
        )
    finally:
        SettingsModel._environ = previous
    assert checks.retrieval_checks.min_hit_rate == 0.75
