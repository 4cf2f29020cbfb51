"""What the console client returns about an app: its detail, its workflow draft or published workflow.

Frozen dataclasses parsed tolerantly, like models.py. The graph, features and model configuration are kept as
Dify's own JSON (dicts): the product changes only the dataset ids inside them (sync/app_binding.py) and writes
everything else back untouched, so modelling the rest would only lose what a newer Dify adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from difyops_dagster.dify.models import _timestamp

# Dify's placeholder for "keep the stored secret" (`constants.HIDDEN_VALUE`): a draft shows secret environment
# values masked, and a sync that echoed the mask would store the mask as the new secret.
HIDDEN_VALUE = "[__HIDDEN__]"


@dataclass(frozen=True)
class AppDetail:
    """`GET /console/api/apps/{id}`. `model_config` is the current configuration of a chat, completion or agent
    app (None for workflow modes); `workflow_id` the published workflow users get (None for the others)."""

    id: str
    name: str
    mode: str
    model_config: dict[str, Any] | None
    workflow_id: str | None
    updated_at: int | None

    @property
    def uses_workflow(self) -> bool:
        return self.mode in ("workflow", "advanced-chat")

    @classmethod
    def from_json(cls, data: dict) -> AppDetail:
        config = data.get("model_config")
        workflow = data.get("workflow") or {}
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            mode=str(data.get("mode") or ""),
            model_config=dict(config) if isinstance(config, dict) else None,
            workflow_id=workflow.get("id") or None,
            updated_at=_timestamp(data.get("updated_at")),
        )

    @property
    def model_config_updated_at(self) -> int | None:
        return _timestamp((self.model_config or {}).get("updated_at"))


@dataclass(frozen=True)
class Workflow:
    """A workflow row: the draft (`version == "draft"`, `hash` to write it back with) or a published copy."""

    id: str
    version: str
    graph: dict[str, Any]
    features: dict[str, Any]
    hash: str
    environment_variables: tuple[dict[str, Any], ...] = ()
    conversation_variables: tuple[dict[str, Any], ...] = ()
    marked_name: str = ""
    updated_at: int | None = None

    @classmethod
    def from_json(cls, data: dict) -> Workflow:
        graph, features = data["graph"], data.get("features")
        if not isinstance(graph, dict):
            raise TypeError("graph is not an object")
        return cls(
            id=str(data["id"]),
            version=str(data.get("version") or ""),
            graph=graph,
            features=features if isinstance(features, dict) else {},
            hash=str(data.get("hash") or ""),
            environment_variables=tuple(dict(v) for v in data.get("environment_variables") or ()),
            conversation_variables=tuple(dict(v) for v in data.get("conversation_variables") or ()),
            marked_name=str(data.get("marked_name") or ""),
            updated_at=_timestamp(data.get("updated_at")),
        )

    def sync_body(self, graph: dict[str, Any]) -> dict[str, Any]:
        """The draft-sync body Dify's editor sends: this draft's features, variables and hash with `graph`.

        Dify replaces the draft's variables with what the body carries (none sent: none kept), so they are sent
        back; secret values go as `[__HIDDEN__]` so that Dify keeps the stored ones, as its web UI does.
        """
        variables = [
            {**v, "value": HIDDEN_VALUE} if v.get("value_type") == "secret" else dict(v)
            for v in self.environment_variables
        ]
        return {
            "graph": graph,
            "features": self.features,
            "hash": self.hash,
            "environment_variables": variables,
            "conversation_variables": [dict(v) for v in self.conversation_variables],
        }


@dataclass(frozen=True)
class DraftSync:
    """What a draft sync answered: the draft's new hash (the next write must send it) and when it changed."""

    hash: str
    updated_at: int | None


@dataclass(frozen=True)
class Publication:
    """What a publish answered; read the published workflow back to learn its id and version."""

    created_at: int | None
