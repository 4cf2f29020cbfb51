"""Settings are checked when the code location loads: a wrong or missing setting names itself, never a secret.

The file is YAML; any value may be `{env: NAME}`; secrets must be `{env: NAME}` and set at load time.
"""

from __future__ import annotations

import pytest

from difyops_dagster.settings import SettingsError, load_settings, parse_settings

MINIMAL = {"dify": {"base_url": "http://127.0.0.1:5001/v1"}}


def test_minimal_settings_load_with_defaults():
    settings = parse_settings(MINIMAL, {})
    assert settings.dify.base_url == "http://127.0.0.1:5001/v1"
    assert settings.storage.kind == "local"
    assert settings.sync is None and settings.video is None


def test_base_url_without_v1_gets_it_appended():
    settings = parse_settings({"dify": {"base_url": "https://dify.example.com/"}}, {})
    assert settings.dify.base_url == "https://dify.example.com/v1"


@pytest.mark.parametrize("url", ["ftp://dify", "dify.example.com", "http://", ""])
def test_a_malformed_dify_url_names_the_setting(url):
    with pytest.raises(SettingsError, match=r"dify\.base_url"):
        parse_settings({"dify": {"base_url": url}}, {})


def test_a_missing_dify_section_names_it():
    with pytest.raises(SettingsError, match=r"dify: Field required"):
        parse_settings({}, {})


def test_an_unknown_setting_is_an_error_not_ignored():
    with pytest.raises(SettingsError, match=r"dify\.base_ulr"):
        parse_settings({"dify": {"base_url": "http://x/v1", "base_ulr": "typo"}}, {})


def test_env_reference_resolves_from_the_environment():
    settings = parse_settings({"dify": {"base_url": {"env": "DIFY_URL"}}}, {"DIFY_URL": "http://h:1"})
    assert settings.dify.base_url == "http://h:1/v1"


def test_unset_env_reference_names_the_variable_and_the_setting():
    with pytest.raises(SettingsError, match=r"DIFY_URL is not set.*base_url"):
        parse_settings({"dify": {"base_url": {"env": "DIFY_URL"}}}, {})


def test_a_literal_secret_is_refused_without_echoing_it():
    secret = "dataset-LITERAL-SECRET-4242"
    with pytest.raises(SettingsError) as info:
        parse_settings({"dify": {"base_url": "http://x/v1", "dataset_api_key": secret}}, {})
    assert "dify.dataset_api_key" in str(info.value)
    assert secret not in str(info.value)


def test_an_unset_secret_variable_names_the_setting_and_variable():
    data = {"dify": {"base_url": "http://x/v1", "dataset_api_key": {"env": "MY_DIFY_KEY"}}}
    with pytest.raises(SettingsError, match=r"dify\.dataset_api_key \(environment variable MY_DIFY_KEY\)"):
        parse_settings(data, {})


def test_a_set_secret_stays_a_reference_and_never_holds_the_value():
    data = {"dify": {"base_url": "http://x/v1", "dataset_api_key": {"env": "MY_DIFY_KEY"}}}
    settings = parse_settings(data, {"MY_DIFY_KEY": "dataset-VALUE-9999"})
    assert settings.dify.dataset_api_key.env == "MY_DIFY_KEY"
    assert "dataset-VALUE-9999" not in repr(settings)


def test_s3_keys_come_in_pairs():
    data = {**MINIMAL, "s3": {"access_key_id": {"env": "A"}}}
    with pytest.raises(SettingsError, match=r"s3\.access_key_id and s3\.secret_access_key"):
        parse_settings(data, {"A": "x"})


def test_s3_storage_needs_a_bucket():
    with pytest.raises(SettingsError, match=r"storage\.bucket is required"):
        parse_settings({**MINIMAL, "storage": {"kind": "s3"}}, {})


def test_a_missing_settings_file_names_the_variable(tmp_path):
    with pytest.raises(SettingsError, match=r"DIFYOPS_CONFIG: no settings file"):
        load_settings({"DIFYOPS_CONFIG": str(tmp_path / "absent.yaml")})


def test_a_settings_file_that_is_not_yaml_is_reported(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("dify: [unclosed\n")
    with pytest.raises(SettingsError, match=r"not valid YAML"):
        load_settings({"DIFYOPS_CONFIG": str(path)})


def test_the_settings_file_is_read_from_difyops_config(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("dify:\n  base_url: http://127.0.0.1:5001\n  version: '1.9'\n")
    settings = load_settings({"DIFYOPS_CONFIG": str(path)})
    assert settings.dify.version == "1.9"
