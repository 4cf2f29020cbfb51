"""The value checks several settings sections share are declared once (config_model.py) and hold in every section
that uses them: each cron string, timezone, relative folder, dataset id and list of names is refused the same way,
with the setting's own path in front of the message.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from difyops_dagster.config_model import SettingsError
from difyops_dagster.settings import parse_settings

DATASET = "0b1e0000-0000-4000-8000-000000000001"
VIDEO_DATASET = "0f1d0000-0000-4000-8000-000000000003"  # each dataset has one writer (sync/ownership.py)
GIVEN = "0c0d0000-0000-4000-8000-00000000000a"
ENV = {"K": "dataset-key", "APP_KEY": "app-key-0123456789"}
APP = {"name": "bot", "api_key": {"env": "APP_KEY"}}
SECTIONS = {
    "dify": {"base_url": "http://127.0.0.1:5001/v1", "dataset_api_key": {"env": "K"}},
    "sync": {"bucket": "b", "mode": "single", "dataset_id": DATASET},
    "video": {"dataset_id": VIDEO_DATASET, "sources": [{"name": "talks", "url": "https://example.com/list"}]},
    "reports": {"apps": [APP], "start_date": "2026-10-01"},
    "workflows": {"apps": [{**APP, "schedule_cron": "0 * * * *"}]},
}


def load_with(path: str, value: object):
    """Every section at once, with the setting at `path` (`sync.schedule_cron`, `reports.apps.0.name`) replaced."""
    data = copy.deepcopy(SECTIONS)
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    return parse_settings(data, ENV)


def test_the_sections_together_load():
    settings = load_with("sync.bucket", "b")
    assert settings.sync.schedule_cron == "0 15 * * *" and settings.video.storage_prefix == "video/"


@pytest.mark.parametrize("path", ["sync.schedule_cron", "video.schedule_cron", "workflows.apps.0.schedule_cron"])
def test_every_cron_setting_refuses_what_dagster_schedules_refuse(path):
    with pytest.raises(SettingsError, match=rf"{path}: not a valid cron string: '0 25 \* \* \*'"):
        load_with(path, "0 25 * * *")


@pytest.mark.parametrize(
    "path",
    ["sync.schedule_timezone", "video.schedule_timezone", "reports.timezone", "workflows.apps.0.schedule_timezone"],
)
@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd"])
def test_every_timezone_setting_takes_only_iana_names(path, zone):
    with pytest.raises(SettingsError, match=rf"{path}: not a known IANA timezone"):
        load_with(path, zone)


@pytest.mark.parametrize("path", ["video.storage_prefix", "reports.storage_prefix"])
def test_every_storage_prefix_is_a_relative_folder_written_with_one_trailing_slash(path):
    section, field = path.split(".")
    assert getattr(getattr(load_with(path, "/team/kb"), section), field) == "team/kb/"
    for bad in ("../up", "a/../../b", "/", ""):
        with pytest.raises(SettingsError, match=rf"{path}: must be a relative folder"):
            load_with(path, bad)


@pytest.mark.parametrize("path", ["sync.dataset_id", "video.dataset_id"])
def test_every_dataset_id_is_a_uuid_written_the_canonical_way(path):
    section, field = path.split(".")
    assert getattr(getattr(load_with(path, GIVEN.upper()), section), field) == GIVEN
    with pytest.raises(SettingsError, match=rf"{path}: a Dify dataset id is a UUID"):
        load_with(path, "kb-blue")


@pytest.mark.parametrize("path", ["video.sources.0.name", "reports.apps.0.name", "workflows.apps.0.name"])
@pytest.mark.parametrize("name", ["Bot", "1bot", "bot!", "x" * 64])
def test_every_name_that_becomes_a_dagster_name_is_lowercase_and_short(path, name):
    with pytest.raises(SettingsError, match=rf"{path}: must be lowercase letters, digits"):
        load_with(path, name)


@pytest.mark.parametrize("section", ["reports", "workflows"])
def test_two_apps_of_one_name_are_refused_naming_the_list(section):
    data = {**SECTIONS, section: {**SECTIONS[section], "apps": [APP, APP]}}
    with pytest.raises(SettingsError, match=rf"{section}.apps names must be unique; repeated: bot"):
        parse_settings(data, ENV)
