"""Which datasets a Dify app reads, and the same app made to read the active colour. Pure: JSON in, new JSON out.

Where an app names its datasets (langgenius/dify, every 1.x):

- workflow and chatflow apps: each node whose `data.type` is `knowledge-retrieval` lists `data.dataset_ids`
  (`core/workflow/nodes/knowledge_retrieval/entities.py`); nodes inside iterations and loops sit in the same flat
  `graph.nodes` list;
- chat, completion and agent apps: the model configuration's `dataset_configs.datasets.datasets[].dataset.id`, and
  the legacy agent form `agent_mode.tools[].dataset.id` (`DatasetConfigManager.convert` reads both).

A switch replaces only the sync's two colours: the colour being left becomes the active one, the active one stays,
a place naming both ends up naming the active one once, and every other dataset keeps its place in the list. This
module never does I/O and never mutates its input; the Dagster wiring reads the app, calls `rebind_app`, writes
the result back through the console client and records `Rebinding.replacements`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WORKFLOW_MODES = frozenset({"workflow", "advanced-chat"})
MODEL_CONFIG_MODES = frozenset({"chat", "completion", "agent-chat"})


class BindingError(ValueError):
    """An app that cannot be switched: an unknown mode, a malformed graph, or no place naming either colour."""


@dataclass(frozen=True)
class ColourSwitch:
    """Users leave `old` for `new` (promotion: standby -> active; rollback: the reverse)."""

    old: str
    new: str

    def __post_init__(self) -> None:
        if not self.old or not self.new or self.old == self.new:
            raise ValueError(f"a colour switch needs two different dataset ids, got {self.old!r} -> {self.new!r}")

    def apply(self, dataset_ids: Sequence[str]) -> tuple[str, ...]:
        result: list[str] = []
        for dataset_id in dataset_ids:
            dataset_id = self.new if dataset_id == self.old else dataset_id
            if dataset_id != self.new or self.new not in result:
                result.append(dataset_id)
        return tuple(result)


@dataclass(frozen=True)
class BindingPlace:
    """One place of an app that names datasets: `where` locates it, `title` is what a person sees in Dify."""

    where: str
    title: str
    dataset_ids: tuple[str, ...]


@dataclass(frozen=True)
class Replacement:
    where: str
    title: str
    before: tuple[str, ...]
    after: tuple[str, ...]

    def as_row(self) -> dict[str, str]:
        return {
            "where": self.where,
            "title": self.title,
            "before": ", ".join(self.before),
            "after": ", ".join(self.after),
        }


@dataclass(frozen=True)
class Rebinding:
    """The app's graph or model configuration after the switch, and what changed (empty: it already followed)."""

    config: dict[str, Any]
    replacements: tuple[Replacement, ...]

    @property
    def changed(self) -> bool:
        return bool(self.replacements)


def _nodes(graph: Mapping[str, Any]) -> list[Any]:
    nodes = graph.get("nodes") if isinstance(graph, Mapping) else None
    if not isinstance(nodes, list):
        raise BindingError("the workflow graph has no `nodes` list")
    return nodes


def _knowledge_data(node: Any) -> dict[str, Any] | None:
    data = node.get("data") if isinstance(node, dict) else None
    if isinstance(data, dict) and data.get("type") == "knowledge-retrieval":
        return data
    return None


def graph_places(graph: Mapping[str, Any]) -> list[BindingPlace]:
    places = []
    for node in _nodes(graph):
        data = _knowledge_data(node)
        if data is not None:
            ids = tuple(str(i) for i in data.get("dataset_ids") or ())
            places.append(BindingPlace(f"node {node.get('id')}", str(data.get("title") or node.get("id")), ids))
    return places


def _config_entries(config: Mapping[str, Any]) -> list[Any]:
    datasets = ((config.get("dataset_configs") or {}).get("datasets") or {}).get("datasets")
    return datasets if isinstance(datasets, list) else []


def _entry_id(entry: Any) -> str | None:
    """`{"dataset": {"enabled": ..., "id": ...}}`, the one shape Dify reads in both lists."""
    if isinstance(entry, dict) and list(entry)[:1] == ["dataset"] and isinstance(entry["dataset"], dict):
        value = entry["dataset"].get("id")
        return None if value is None else str(value)
    return None


def _agent_tools(config: Mapping[str, Any]) -> list[Any]:
    tools = (config.get("agent_mode") or {}).get("tools")
    return tools if isinstance(tools, list) else []


def model_config_places(config: Mapping[str, Any]) -> list[BindingPlace]:
    places = []
    context = tuple(i for i in (_entry_id(e) for e in _config_entries(config)) if i is not None)
    if context:
        places.append(BindingPlace("dataset_configs", "Context", context))
    for index, tool in enumerate(_agent_tools(config)):
        dataset_id = _entry_id(tool)
        if dataset_id is not None:
            places.append(BindingPlace(f"agent_mode.tools[{index}]", "Knowledge tool", (dataset_id,)))
    return places


def app_places(mode: str, config: Mapping[str, Any]) -> list[BindingPlace]:
    """The places of an app of `mode`: its graph's (workflow modes) or its model configuration's."""
    if mode in WORKFLOW_MODES:
        return graph_places(config)
    if mode in MODEL_CONFIG_MODES:
        return model_config_places(config)
    raise BindingError(f"app mode {mode!r} has no datasets to switch")


def follows_colour(places: Sequence[BindingPlace], switch: ColourSwitch) -> bool:
    """True when the app reads `switch.new` and nowhere `switch.old`: nothing for a switch to do."""
    ids = {i for place in places for i in place.dataset_ids}
    return switch.new in ids and switch.old not in ids


def _require_colour(places: Sequence[BindingPlace], switch: ColourSwitch, what: str) -> None:
    if not any({switch.old, switch.new} & set(place.dataset_ids) for place in places):
        found = ", ".join(place.title for place in places) or "none"
        raise BindingError(
            f"no {what} names dataset {switch.old} or {switch.new} (places with datasets: {found}); "
            "bind the app to one colour in Dify first"
        )


def rebind_graph(graph: Mapping[str, Any], switch: ColourSwitch) -> Rebinding:
    """The graph with every knowledge-retrieval node reading `switch.new` where it read either colour."""
    rebound = copy.deepcopy(dict(graph))
    places = graph_places(rebound)
    _require_colour(places, switch, "knowledge-retrieval node")
    replacements = []
    for node in _nodes(rebound):
        data = _knowledge_data(node)
        if data is None:
            continue
        before = tuple(str(i) for i in data.get("dataset_ids") or ())
        after = switch.apply(before)
        if after != before:
            data["dataset_ids"] = list(after)
            title = str(data.get("title") or node.get("id"))
            replacements.append(Replacement(f"node {node.get('id')}", title, before, after))
    return Rebinding(rebound, tuple(replacements))


def rebind_model_config(config: Mapping[str, Any], switch: ColourSwitch) -> Rebinding:
    """The model configuration with its context and legacy knowledge tools reading `switch.new`."""
    rebound = copy.deepcopy(dict(config))
    _require_colour(model_config_places(rebound), switch, "dataset of the model configuration")
    replacements = []
    entries = _config_entries(rebound)
    before = tuple(i for i in (_entry_id(e) for e in entries) if i is not None)
    if switch.apply(before) != before:
        entries[:] = _switched_entries(entries, switch)
        after = tuple(i for i in (_entry_id(e) for e in entries) if i is not None)
        replacements.append(Replacement("dataset_configs", "Context", before, after))
    tools = _agent_tools(rebound)
    kept: list[Any] = []
    for index, tool in enumerate(tools):
        dataset_id = _entry_id(tool)
        if dataset_id not in (switch.old, switch.new):
            kept.append(tool)
            continue
        duplicate = any(_entry_id(t) == switch.new for t in kept)
        if dataset_id == switch.old or duplicate:
            after = () if duplicate else (switch.new,)
            replacements.append(Replacement(f"agent_mode.tools[{index}]", "Knowledge tool", (dataset_id,), after))
        if not duplicate:
            tool["dataset"]["id"] = switch.new
            kept.append(tool)
    tools[:] = kept
    return Rebinding(rebound, tuple(replacements))


def _switched_entries(entries: list[Any], switch: ColourSwitch) -> list[Any]:
    result: list[Any] = []
    for entry in entries:
        dataset_id = _entry_id(entry)
        if dataset_id in (switch.old, switch.new):
            if any(_entry_id(e) == switch.new for e in result):
                continue
            entry["dataset"]["id"] = switch.new
        result.append(entry)
    return result


def rebind_app(mode: str, config: Mapping[str, Any], switch: ColourSwitch) -> Rebinding:
    """`rebind_graph` for workflow and chatflow apps, `rebind_model_config` for chat, completion and agent apps."""
    if mode in WORKFLOW_MODES:
        return rebind_graph(config, switch)
    if mode in MODEL_CONFIG_MODES:
        return rebind_model_config(config, switch)
    raise BindingError(f"app mode {mode!r} has no datasets to switch")
