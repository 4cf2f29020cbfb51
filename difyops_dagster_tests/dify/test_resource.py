"""`DifyResource` is configured from `settings.dify` with the key as an `EnvVar`, describes each field in the
settings' own words, and gives every client it makes one shared rate limit.
"""

from __future__ import annotations

import logging

import dagster as dg
import pytest

from dify_standin.processes import StandinProcess
from difyops_dagster.dify.compat import FALLBACK
from difyops_dagster.dify.resource import DifyResource, build_dify_resource
from difyops_dagster.settings import DifySettings, parse_settings

ENVIRON = {"DIFY_DATASET_KEY": "dataset-from-env"}


def _settings(**dify) -> DifySettings:
    tree = {"dify": {"base_url": "http://dify.local", **dify}}
    return parse_settings(tree, ENVIRON).dify


def test_the_resource_takes_the_key_as_an_env_var_and_every_other_value_from_settings():
    resource = build_dify_resource(
        _settings(dataset_api_key={"env": "DIFY_DATASET_KEY"}, version="1.9", max_retries=2, rate_limit_per_second=0)
    )
    assert resource.dataset_api_key == dg.EnvVar("DIFY_DATASET_KEY")
    assert (resource.base_url, resource.version, resource.max_retries) == ("http://dify.local/v1", "1.9", 2)
    assert resource.rate_limit_per_second == 0


def test_without_a_dataset_key_the_resource_still_serves_apps_but_refuses_a_dataset_client():
    resource = build_dify_resource(_settings())
    assert resource.dataset_api_key is None
    assert resource.app_client("app-x").compat.version == FALLBACK  # dify.local answers nothing
    with pytest.raises(dg.Failure, match="dataset_api_key is not configured"):
        resource.dataset_client()


def test_every_client_of_one_resource_shares_one_rate_limiter_and_other_resources_have_their_own():
    resource = DifyResource(base_url="http://dify.local/v1", dataset_api_key="dataset-k", rate_limit_per_second=5)
    clients = [resource.dataset_client(), resource.app_client("app-a"), resource.app_client("app-b")]
    assert len({id(c.transport.limiter) for c in clients}) == 1
    assert clients[0].transport.limiter.rate == 5
    other = DifyResource(base_url="http://dify.local/v1", dataset_api_key="dataset-k")
    assert other.dataset_client().transport.limiter is not clients[0].transport.limiter


def test_resource_fields_are_described_in_the_settings_words():
    for name, field in DifyResource.model_fields.items():
        assert field.description == DifySettings.model_fields[name].description, name
    assert DifyResource.model_fields["dataset_api_key"].repr is False


def test_defaults_match_the_settings_defaults():
    resource, settings = DifyResource(base_url="http://dify.local/v1"), _settings()
    for name in DifyResource.model_fields:
        if name not in ("base_url", "dataset_api_key"):
            assert getattr(resource, name) == getattr(settings, name), name


def test_the_version_is_read_off_the_server_and_a_disagreeing_setting_is_a_warning_naming_it(caplog):
    with StandinProcess(dify_version="1.9.1") as server:
        stale = DifyResource(base_url=server.api_url, dataset_api_key="dataset-k", version="1.13")
        with caplog.at_level(logging.WARNING):
            assert stale.dataset_client().compat.version == (1, 9, 1)
        assert "dify.version is '1.13' but the Dify server reports 1.9.1" in caplog.text
        caplog.clear()
        agreeing = DifyResource(base_url=server.api_url, dataset_api_key="dataset-k", version="1.9")
        with caplog.at_level(logging.WARNING):
            assert agreeing.app_client("app-x").compat.version == (1, 9, 1)
        assert caplog.text == ""
        index = [r for r in server.admin.request_log() if r["path"] == "/v1/"]
        assert len(index) == 2  # once per resource, not per client
