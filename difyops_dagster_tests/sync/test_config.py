"""The `sync:` section is checked when the code location loads, with messages that name the setting."""

from __future__ import annotations

import pytest

from difyops_dagster.config_model import SettingsError
from difyops_dagster.settings import parse_settings

BLUE = "0b1e0000-0000-4000-8000-000000000001"
GREEN = "06ee0000-0000-4000-8000-000000000002"
ENV = {"K": "dataset-key"}


def settings(**sync):
    data = {
        "dify": {"base_url": "http://127.0.0.1:5001", "dataset_api_key": {"env": "K"}},
        "sync": {"bucket": "b", "blue_dataset_id": BLUE, "green_dataset_id": GREEN, **sync},
    }
    return parse_settings(data, ENV).sync


def test_defaults_are_blue_green_daily_at_15_without_push_all():
    sync = settings()
    assert sync.mode == "blue_green" and sync.schedule_cron == "0 15 * * *" and not sync.push_all
    assert sync.targets() == {"blue": BLUE, "green": GREEN}
    assert sync.max_bytes == 15 * 1024 * 1024


def test_the_default_extensions_are_what_a_stock_difys_etl_reads():
    """`_DEFAULT_DOCUMENT_EXTENSION_BASE` in Dify's api/constants: a stock Dify (ETL_TYPE=dify) refuses xml, doc,
    eml, msg, pptx, ppt and epub with an empty 400 (recorded on 1.7.2-1.13.2), so they are not accepted by default."""
    stock = ["csv", "docx", "htm", "html", "markdown", "md", "mdx", "pdf", "properties", "txt", "vtt", "xls", "xlsx"]
    assert sorted(settings().accepted_extensions) == stock


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"green_dataset_id": None}, "required in blue_green mode"),
        ({"green_dataset_id": BLUE}, "must be different datasets"),
        ({"blue_dataset_id": "my-dataset"}, "a Dify dataset id is a UUID"),
        ({"mode": "single"}, "sync.dataset_id is required in single mode"),
        ({"dataset_id": BLUE}, "sync.dataset_id is for single mode"),
        ({"schedule_cron": "at three"}, "sync.schedule_cron: not a valid cron string"),
        ({"schedule_timezone": "Mars/Olympus"}, "sync.schedule_timezone: not a known IANA timezone: 'Mars/Olympus'"),
        ({"max_delete_ratio": 1.5}, "sync.max_delete_ratio"),
        ({"upload_concurrency": 0}, "sync.upload_concurrency"),
        ({"process_rule": {"mode": "magic"}}, "sync.process_rule: process_rule.mode must be one of"),
        ({"accepted_extensions": []}, "must name at least one extension"),
        ({"webhook_url": "ftp://x"}, r"sync.webhook_url: must be an http\(s\) URL"),
        ({"webhook_token": "literal-token"}, "never as a literal value"),
        ({"apps": ["support-chat"]}, "sync.apps: a Dify app id is a UUID"),
        ({"apps": [BLUE]}, "sync.apps needs dify.console"),
        (
            {"mode": "single", "dataset_id": BLUE, "blue_dataset_id": None, "green_dataset_id": None, "apps": [BLUE]},
            "sync.apps and sync.retrieval_checks need blue_green mode",
        ),
        ({"retrieval_checks": {"queries": []}}, "sync.retrieval_checks.queries"),
    ],
)
def test_bad_settings_fail_the_load_naming_the_setting(override, message):
    with pytest.raises(SettingsError, match=message):
        settings(**override)


def test_single_mode_needs_one_dataset_and_no_colours():
    sync = settings(mode="single", dataset_id=BLUE, blue_dataset_id=None, green_dataset_id=None)
    assert sync.targets() == {"main": BLUE}


def test_a_webhook_token_variable_must_be_set_at_load():
    with pytest.raises(SettingsError, match="SYNC_HOOK_TOKEN"):
        settings(webhook_url="https://router.example/hook", webhook_token={"env": "SYNC_HOOK_TOKEN"})


def test_extensions_are_normalised():
    assert settings(accepted_extensions=[".MD", "txt ", "md"]).accepted_extensions == ["md", "txt"]
