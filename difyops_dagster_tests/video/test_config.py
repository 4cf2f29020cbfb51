"""The `video:` settings are checked when the code location loads: sources, languages, secrets only as
`{env: NAME}`, cron and timezone, import paths; transcription is off unless configured. Errors name the setting.
"""

from __future__ import annotations

import pytest

from difyops_dagster.config_model import SettingsError
from difyops_dagster.settings import parse_settings

DATASET = "0b1e0000-0000-4000-8000-000000000001"
ENV = {"K": "dataset-key", "COOKIES": "/run/secrets/cookies.txt", "PROXY": "http://user:pw@proxy:3128"}


def settings(**video):
    data = {
        "dify": {"base_url": "http://127.0.0.1:5001", "dataset_api_key": {"env": "K"}},
        "video": {"dataset_id": DATASET, "sources": [{"name": "talks", "url": "https://example.com/list"}], **video},
    }
    return parse_settings(data, ENV)


def test_defaults_are_polite_and_keep_transcription_off():
    video = settings().video
    source = video.sources[0]
    assert source.subtitle_languages == ["en"] and source.accept_auto_captions and not source.keep_media
    assert video.transcription is None and not video.remove_missing_videos
    assert video.sleep_interval_s == 1.0 and video.retries == 3
    assert video.storage_prefix == "video/" and video.schedule_cron == "0 3 * * *"


def test_secrets_come_from_the_environment_and_are_never_literal():
    video = settings(cookies_file={"env": "COOKIES"}, proxy={"env": "PROXY"}).video
    assert video.proxy.env == "PROXY" and video.cookies_file.env == "COOKIES"
    with pytest.raises(SettingsError) as info:
        settings(proxy="http://user:pw@proxy:3128")
    assert "video.proxy" in str(info.value) and "pw@" not in str(info.value)
    with pytest.raises(SettingsError, match="MISSING_VAR"):
        settings(cookies_file={"env": "MISSING_VAR"})


@pytest.mark.parametrize(
    ("video", "message"),
    [
        ({"sources": []}, "video.sources"),
        ({"sources": [{"name": "a", "url": "ftp://x"}]}, "http"),
        ({"sources": [{"name": "A b", "url": "https://x"}]}, "lowercase"),
        (
            {"sources": [{"name": "a", "url": "https://x"}, {"name": "a", "url": "https://y"}]},
            "video.sources names must be unique; repeated: a",
        ),
        ({"sources": [{"name": "a", "url": "https://x", "subtitle_languages": ["english!"]}]}, "language codes"),
        ({"sources": [{"name": "a", "url": "https://x", "max_videos": 0}]}, "max_videos"),
        ({"dataset_id": "kb-1"}, "video.dataset_id: a Dify dataset id is a UUID"),
        ({"schedule_cron": "every day"}, "video.schedule_cron: not a valid cron string"),
        ({"schedule_timezone": "Mars/Olympus"}, "video.schedule_timezone: not a known IANA timezone"),
        ({"extra_extractors": ["not a path"]}, "import paths"),
        ({"transcription": {"engine": "whisper.cpp"}}, "transcription.engine"),
        ({"storage_prefix": "../up"}, "video.storage_prefix: must be a relative folder"),
    ],
)
def test_bad_settings_fail_the_load_naming_the_setting(video, message):
    with pytest.raises(SettingsError, match=message):
        settings(**video)


def test_transcription_is_configured_with_its_own_section():
    video = settings(transcription={"model_path": "/models/tiny.en", "language": "en"}).video
    assert video.transcription.engine == "faster_whisper" and video.transcription.compute_type == "int8"
