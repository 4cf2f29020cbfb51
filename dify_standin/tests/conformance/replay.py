"""Sending a recorded request to the stand-in and reading its answer the way the recordings store answers.

The request is the recording's: its method, its path and body with every placeholder replaced by the live value
the case's preparer set up (`<300 x>` becomes 300 x's; a `metadata_list` item's `<metadata_id>` is the id of the
field it names), its query, and for multipart bodies a file of the recorded name and size plus the `data` part.
The preparer decides the credentials (`Send`), as the recording script did; the recordings do not keep headers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import requests

from dify_standin.tests.conformance.compare import Answer, parse_cookies
from dify_standin.tests.conformance.world import APP_KEY, World

PLACEHOLDER = re.compile(r"<[^<>]+>")
REPEATED = re.compile(r"<(\d+) (\w)>")
STALL_SECONDS = 3.0  # a stream silent this long has stalled (every stand-in event comes within milliseconds)


@dataclass
class Send:
    """How the request goes out: `key` is the bearer (None: the default key of the route's surface, "" none at
    all), or a raw `authorization` header; `cookies` and `headers` for console calls."""

    key: str | None = None
    authorization: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None  # the JSON body, when the preparer knows it better than the body shape (a refresh token)


def fill(value: Any, ids: dict[str, str]) -> Any:
    """The recorded body shape with the live values in place of its placeholders."""
    if isinstance(value, dict):
        if value.get("id") == "<metadata_id>" and f"<metadata_id:{value.get('name')}>" in ids:
            value = {**value, "id": ids[f"<metadata_id:{value['name']}>"]}
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    if isinstance(value, str):
        repeated = REPEATED.fullmatch(value)
        if repeated:
            return repeated.group(2) * int(repeated.group(1))
        return PLACEHOLDER.sub(lambda m: ids.get(m.group(0), m.group(0)), value)
    return value


def _authorization(path: str, send: Send, dataset_key: str) -> dict[str, str]:
    if send.authorization is not None:
        return {"Authorization": send.authorization}
    if send.key == "":
        return {}
    if send.key is None and path.startswith("/console/"):
        return {}
    key = send.key or (dataset_key if path.startswith(("/v1/datasets", "/v1/workspaces")) else APP_KEY)
    return {"Authorization": f"Bearer {key}"}


def send(world: World, how: Send) -> Answer:
    request = world.case.request
    path = fill(request["path"], world.ids)
    url = world.api.server.url + path
    headers = {**_authorization(path, how, world.api.server.dataset_key), **how.headers}
    kwargs: dict[str, Any] = {"params": fill(request.get("query") or {}, world.ids), "cookies": how.cookies}
    shape = request.get("body_shape")
    if how.json is not None:
        kwargs["json"] = how.json
    elif isinstance(shape, dict) and "multipart" in shape:
        kwargs.update(_multipart(fill(shape["multipart"], world.ids)))
    elif shape is not None:
        kwargs["json"] = fill(shape, world.ids)
    with requests.request(
        request["method"], url, headers=headers, stream=True, timeout=(5, STALL_SECONDS), **kwargs
    ) as response:
        return read(response)


def _multipart(parts: dict) -> dict[str, Any]:
    files = {}
    if "file" in parts:
        size = int(parts["file"]["bytes"])
        files["file"] = (parts["file"]["filename"], (b"recorded document line\n" * (size // 23 + 1))[:size])
    data = {"data": json.dumps(parts["data"])} if parts.get("data") is not None else {}
    return {"files": files or None, "data": data}


def read(response: requests.Response) -> Answer:
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("text/event-stream"):
        body: Any = read_events(response)
    else:
        text = response.content.decode("utf-8", errors="replace")
        body = text
        if content_type.startswith("application/json") and text.strip():
            body = json.loads(text)
    return Answer(
        status=response.status_code,
        content_type=content_type,
        body=body,
        www_authenticate=response.headers.get("WWW-Authenticate"),
        cookies=parse_cookies(response.raw.headers.getlist("Set-Cookie")),
    )


def read_events(response: requests.Response) -> list[dict]:
    """SSE blocks until the stream ends or stays silent for STALL_SECONDS (as the recorder treated a stall)."""
    events: list[dict] = []
    buffer = ""
    try:
        for chunk in response.iter_content(chunk_size=None, decode_unicode=True):
            buffer += chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                if block.startswith("data: "):
                    events.append(json.loads(block[len("data: ") :]))
                elif block.strip():
                    events.append({"_line": block.strip()})
    except (TimeoutError, requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
        pass
    return events
