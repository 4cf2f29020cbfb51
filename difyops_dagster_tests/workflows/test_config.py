"""The workflows settings are checked when the code location loads: names become Dagster names, cron strings
and timezones must be valid, names are unique, keys are `{env: NAME}` only; the feature is off without them.
"""

from __future__ import annotations

import pytest

from difyops_dagster.config_model import SettingsError
from difyops_dagster.settings import parse_settings
from difyops_dagster.workflows.defs import build_defs

ENV = {"APP_KEY": "app-secret-value-0123"}


def load(*apps: dict, **section):
    data = {"dify": {"base_url": "http://127.0.0.1:9/v1"}, "workflows": {"apps": list(apps), **section}}
    return parse_settings(data, ENV)


def app(**fields) -> dict:
    return {"name": "summarize", "api_key": {"env": "APP_KEY"}, **fields}


def test_defaults_are_streaming_on_demand_with_dify_s_own_time_limit():
    (settings,) = load(app()).workflows.apps
    assert settings.response_mode == "streaming"
    assert settings.schedule_cron is None
    assert settings.timeout_s == 1200
    assert settings.user == "difyops-dagster"
    assert settings.api_key.env == "APP_KEY"


@pytest.mark.parametrize("name", ["Summarize", "1app", "has-dash", "x" * 49, ""])
def test_a_name_that_cannot_be_a_dagster_name_is_refused(name):
    with pytest.raises(SettingsError, match=r"workflows\.apps\.0\.name"):
        load(app(name=name))


def test_two_apps_with_one_name_are_refused_naming_it():
    with pytest.raises(SettingsError, match=r"workflows\.apps names must be unique; repeated: summarize"):
        load(app(), app())


def test_a_bad_cron_string_is_refused_at_load():
    with pytest.raises(
        SettingsError, match=r"workflows\.apps\.0\.schedule_cron: not a valid cron string: '0 25 \* \* \*'"
    ):
        load(app(schedule_cron="0 25 * * *"))


def test_an_unknown_timezone_is_refused_at_load():
    with pytest.raises(
        SettingsError, match=r"workflows\.apps\.0\.schedule_timezone: not a known IANA timezone: 'Mars/Olympus'"
    ):
        load(app(schedule_cron="0 * * * *", schedule_timezone="Mars/Olympus"))


def test_a_literal_api_key_is_refused_without_echoing_it():
    with pytest.raises(SettingsError) as error:
        load(app(api_key="app-literal-secret"))
    assert "app-literal-secret" not in str(error.value)


def test_an_unknown_response_mode_or_a_zero_timeout_is_refused():
    with pytest.raises(SettingsError, match="response_mode"):
        load(app(response_mode="async"))
    with pytest.raises(SettingsError, match="timeout_s"):
        load(app(timeout_s=0))


def test_run_after_takes_asset_keys():
    assert load(app(run_after=["active_colour", "sync/other"])).workflows.apps[0].run_after == [
        "active_colour",
        "sync/other",
    ]
    with pytest.raises(SettingsError, match="run_after"):
        load(app(run_after=["active colour"]))


def test_without_a_section_or_without_apps_the_feature_defines_nothing():
    no_section = parse_settings({"dify": {"base_url": "http://127.0.0.1:9/v1"}}, ENV)
    assert no_section.workflows is None
    assert not list(build_defs(no_section).assets or [])
    assert not list(build_defs(load()).assets or [])
