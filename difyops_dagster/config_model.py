"""The base every settings section is built on: `{env: NAME}` references, secret handling, and the value checks
several sections share (cron strings, timezones, relative folders), declared once as annotated types.

A settings file is YAML. Any value may be written literally or as `{env: NAME}`; non-secret references are
resolved when the code location loads, so a missing variable fails the load and names both the setting and the
variable. Secret fields are typed `SecretEnv`: they *must* be `{env: NAME}` (a literal secret in a file that
lives in git is refused, without echoing it), the variable must be set at load time, and the value is only read
at run time through `dagster.EnvVar`, so it never appears in the UI, in a repr or in an error.

This module must never import Dagster feature code: every feature's `config.py` builds on it.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg
from dagster._utils.schedules import is_valid_cron_string  # the check ScheduleDefinition itself applies
from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator


class SettingsError(ValueError):
    """A setting is missing or malformed. The message names the setting path and, where relevant, the variable."""


class SecretEnv(BaseModel):
    """A secret, given only as the name of the environment variable that holds it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    env: str

    @model_validator(mode="before")
    @classmethod
    def _only_env_references(cls, value: Any) -> Any:
        if isinstance(value, Mapping) and set(value) == {"env"} and isinstance(value["env"], str):
            return value
        # Never echo `value`: it may be the secret itself.
        raise ValueError("a secret must be written as {env: VARIABLE_NAME}, never as a literal value")

    def as_env_var(self) -> dg.EnvVar:
        """What a resource field receives: Dagster resolves it at launch and never displays the value."""
        return dg.EnvVar(self.env)

    def is_set(self, environ: Mapping[str, str]) -> bool:
        return bool(environ.get(self.env))


class SettingsModel(BaseModel):
    """Base for every settings section: unknown keys are errors, `{env: NAME}` resolves non-secret fields.

    The environment used for resolution is the one passed to `load_settings`; the class variable below carries it
    through pydantic validation (validation of one settings tree happens in one thread, at load time).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    _environ: ClassVar[Mapping[str, str]] = os.environ

    @model_validator(mode="before")
    @classmethod
    def _resolve_env_references(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        resolved = dict(data)
        for name, field in cls.model_fields.items():
            key = field.alias or name
            value = resolved.get(key)
            if field.annotation is SecretEnv or _is_optional_secret(field.annotation):
                continue
            if isinstance(value, Mapping) and set(value) == {"env"}:
                var = value["env"]
                if var not in SettingsModel._environ or SettingsModel._environ[var] == "":
                    raise ValueError(f"environment variable {var} is not set (needed by `{key}`)")
                resolved[key] = SettingsModel._environ[var]
        return resolved


def _check_cron(value: str) -> str:
    if not is_valid_cron_string(value):
        raise ValueError(f'not a valid cron string: {value!r} (e.g. "0 15 * * *")')
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"not a known IANA timezone: {value!r} (e.g. Asia/Shanghai)") from None
    return value


def _relative_folder(value: str) -> str:
    """`reports`, `/reports/` and `reports/` are one folder, written `reports/`; nothing may climb out with `..`."""
    folder = value.strip("/")
    if not folder or ".." in folder.split("/"):
        raise ValueError(f"must be a relative folder such as reports/ (no `..`), got {value!r}")
    return folder + "/"


def _dataset_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"a Dify dataset id is a UUID (see the dataset's URL in Dify), got {value!r}") from None


# Annotated types: a field declared with one of them is checked by it, and the loader's message puts the setting's
# path in front (`video.schedule_cron: not a valid cron string: ...`).
CronString = Annotated[str, AfterValidator(_check_cron)]
TimezoneName = Annotated[str, AfterValidator(_check_timezone)]
RelativeFolder = Annotated[str, AfterValidator(_relative_folder)]
DatasetId = Annotated[str, AfterValidator(_dataset_id)]


def name_type(pattern: str, rule: str) -> Any:
    """A name that becomes part of Dagster names (assets, pools, partitions) and file names: `pattern` says which,
    `rule` says it in words for the message (`must be {rule}, got 'X'`)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f"must be {rule}, got {value!r}")
        return value

    return Annotated[str, AfterValidator(check)]


def check_unique_names(names: Sequence[str], what: str) -> None:
    """`what` names the list (`reports.apps`): its entries' names become Dagster names, which must not collide."""
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{what} names must be unique; repeated: {', '.join(repeated)}")


def _is_optional_secret(annotation: Any) -> bool:
    args = getattr(annotation, "__args__", ())
    return SecretEnv in args


def iter_secrets(model: BaseModel, path: str = "") -> list[tuple[str, SecretEnv]]:
    """Every `SecretEnv` in a settings tree with its dotted path, for the load-time presence check."""
    found: list[tuple[str, SecretEnv]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        here = f"{path}.{name}" if path else name
        found.extend(_secrets_in(value, here))
    return found


def _secrets_in(value: Any, path: str) -> list[tuple[str, SecretEnv]]:
    if isinstance(value, SecretEnv):
        return [(path, value)]
    if isinstance(value, BaseModel):
        return iter_secrets(value, path)
    if isinstance(value, list | tuple):
        out: list[tuple[str, SecretEnv]] = []
        for i, item in enumerate(value):
            out.extend(_secrets_in(item, f"{path}[{i}]"))
        return out
    if isinstance(value, dict):
        out = []
        for k, item in value.items():
            out.extend(_secrets_in(item, f"{path}.{k}"))
        return out
    return []
