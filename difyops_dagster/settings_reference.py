"""The configuration reference, generated from the settings models (their field descriptions are the docs).

`python -m difyops_dagster.settings_reference` prints the Markdown table the README carries between the
`<!-- settings-table -->` markers; a test fails when the two differ, so the README never drifts from the code.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from difyops_dagster.config_model import SecretEnv
from difyops_dagster.settings import Settings

BEGIN = "<!-- settings-table:begin -->"
END = "<!-- settings-table:end -->"


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The settings models reachable through an annotation (X, X | None, list[X], dict[str, X])."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation is not SecretEnv:
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _type_name(annotation: object) -> str:
    if annotation is SecretEnv:
        return "secret `{env: VAR}`"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:  # a checked type of config_model (CronString, ...): the table shows its base
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" (optional)" if type(None) in args else "")
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map of {_type_name(args[1])}" if len(args) == 2 else "map"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return getattr(annotation, "__name__", str(annotation))


def _default(field) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
        return "" if value is None else f"`{value}`"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return ""
        return f"`{value}`" if value not in ([], {}) else "empty"
    return "**required**"


def iter_settings_rows(
    model: type[BaseModel] = Settings, prefix: str = "", documented: set[type] | None = None
) -> Iterator[tuple[str, str, str, str]]:
    """(path, type, default, description) for every field, depth first, in declaration order.

    A section that extends one already listed (a `syncs` entry is a `sync` section with a name) lists only the
    fields it adds: its own field's description says what it extends."""
    documented = set() if documented is None else documented
    documented.add(model)
    base = next((b for b in model.__mro__[1:] if b in documented), None)
    inherited = set(base.model_fields) if base is not None else set()
    for name, field in model.model_fields.items():
        if name in inherited:
            continue
        path = f"{prefix}{name}"
        description = (field.description or "").replace("|", "\\|").replace("\n", " ")
        yield path, _type_name(field.annotation), _default(field), description
        for sub in _models_in(field.annotation):
            is_list = typing.get_origin(field.annotation) in (list, tuple) or any(
                typing.get_origin(a) in (list, tuple) for a in typing.get_args(field.annotation)
            )
            yield from iter_settings_rows(sub, f"{path}[]." if is_list else f"{path}.", documented)


def render_settings_table() -> str:
    lines = ["| setting | type | default | description |", "|---|---|---|---|"]
    lines += [f"| `{p}` | {t} | {d} | {desc} |" for p, t, d, desc in iter_settings_rows()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_settings_table())
