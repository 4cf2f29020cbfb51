"""How a live answer is compared with a recorded one (pure: no HTTP, no files).

Both sides are `Answer`s: status, content type, the two headers that matter (`WWW-Authenticate`, the cookies set),
and the body as the recordings store it (parsed JSON; an SSE stream as a list of events, `{"_line": "event:
ping"}` for a keep-alive; text as text). Compared, as issue 12 asks: status, content type, keys at every depth,
value types (int and float are different types), the error `code` and `message` (and flask-restx's `errors`
texts) after ids are masked, `WWW-Authenticate`, the names and HttpOnly flag of each cookie set, the order of the
SSE events, and a text body (Flask's HTML 404 page) word for word. Ids, timestamps and other values are not
compared: the recordings replaced them by placeholders.

A difference is one line naming the place: `$.data[].need_summary: missing` (recorded, not sent), `… extra`
(sent, not recorded), `… type float != int` (recorded != sent). List indexes are written `[]` and repeated lines
merged, so a difference found in every item of a list is one line, and the same line every time it occurs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MESSAGE_KEYS = ("code", "message")
HEX_RUN = re.compile(r"[0-9a-fA-F]{4,}(?:-[0-9a-fA-F]{4,})*")
PLACEHOLDER = re.compile(r"<[a-z_ 0-9:.]+>")


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: Any
    www_authenticate: str | None = None
    cookies: tuple[tuple[str, bool], ...] = field(default=())  # (name, HttpOnly) per Set-Cookie, in order


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def mask_ids(text: str) -> str:
    """Messages quote ids (pydantic's truncated `input_value`, flask-restx's requested URI): mask every hex run of
    four or more characters and every `<placeholder>` the recordings put in their place."""
    return HEX_RUN.sub("<id>", PLACEHOLDER.sub("<id>", text))


def parse_cookies(header_values: list[str]) -> tuple[tuple[str, bool], ...]:
    """`Set-Cookie` lines -> (name, HttpOnly). A recording joins several cookies with `, ` in one value."""
    cookies = []
    for value in header_values:
        for part in re.split(r", (?=[A-Za-z_][\w-]*=)", value):
            name = part.split("=", 1)[0].strip()
            cookies.append((name, "httponly" in part.lower()))
    return tuple(cookies)


def differences(recorded: Answer, sent: Answer) -> list[str]:
    found: list[str] = []
    if recorded.status != sent.status:
        found.append(f"status {recorded.status} != {sent.status}")
    if recorded.content_type != sent.content_type:
        found.append(f"content-type {recorded.content_type!r} != {sent.content_type!r}")
    if recorded.www_authenticate != sent.www_authenticate:
        found.append(f"WWW-Authenticate {recorded.www_authenticate!r} != {sent.www_authenticate!r}")
    if recorded.cookies != sent.cookies:
        found.append(f"Set-Cookie {_cookie_text(recorded.cookies)} != {_cookie_text(sent.cookies)}")
    if _is_stream(recorded.body) and _is_stream(sent.body):
        found += _stream_differences(recorded.body, sent.body)
    else:
        found += _messages(recorded.body, sent.body, recorded.status)
        found += _shape("$", recorded.body, sent.body, text_exact=recorded.content_type.startswith("text/html"))
    return list(dict.fromkeys(found))


def _cookie_text(cookies: tuple[tuple[str, bool], ...]) -> str:
    return "[" + ", ".join(f"{name}{' HttpOnly' if http_only else ''}" for name, http_only in cookies) + "]"


def _is_stream(body: Any) -> bool:
    return isinstance(body, list) and all(isinstance(e, dict) and ("event" in e or "_line" in e) for e in body)


def event_name(event: dict) -> str:
    return event.get("event") or event.get("_line", "").removeprefix("event: ")


def _stream_differences(recorded: list[dict], sent: list[dict]) -> list[str]:
    """The event names in order; then each event's shape against the event of the same name and occurrence (the
    second `node_finished` with the second), so one missing event does not shift every comparison after it."""
    names = [event_name(e) for e in recorded], [event_name(e) for e in sent]
    found = [] if names[0] == names[1] else [f"events {' '.join(names[0])} != {' '.join(names[1])}"]
    occurrences: dict[tuple[str, int], dict] = {}
    seen: dict[str, int] = {}
    for event in sent:
        name = event_name(event)
        occurrences[(name, seen.get(name, 0))] = event
        seen[name] = seen.get(name, 0) + 1
    seen.clear()
    for event in recorded:
        name = event_name(event)
        match = occurrences.get((name, seen.get(name, 0)))
        seen[name] = seen.get(name, 0) + 1
        if match is not None:
            found += _messages(event, match, 400 if name == "error" else 200)
            found += _shape(f"${{{name}}}", event, match, text_exact=False)
    return found


def _messages(recorded: Any, sent: Any, status: int) -> list[str]:
    """Error `code` / `message` (and flask-restx's `errors` texts) of an error answer, ids masked."""
    if status < 400 or not isinstance(recorded, dict) or not isinstance(sent, dict):
        return []
    found = []
    for key in MESSAGE_KEYS:
        texts = recorded.get(key), sent.get(key)
        if isinstance(texts[0], str) and isinstance(texts[1], str) and mask_ids(texts[0]) != mask_ids(texts[1]):
            found.append(f"$.{key} {texts[0]!r} != {texts[1]!r}")
    errors = recorded.get("errors"), sent.get("errors")
    if isinstance(errors[0], dict) and isinstance(errors[1], dict):
        for name in errors[0].keys() & errors[1].keys():
            if mask_ids(str(errors[0][name])) != mask_ids(str(errors[1][name])):
                found.append(f"$.errors.{name} {errors[0][name]!r} != {errors[1][name]!r}")
    return found


def _shape(path: str, recorded: Any, sent: Any, *, text_exact: bool) -> list[str]:
    kinds = json_type(recorded), json_type(sent)
    if kinds[0] != kinds[1]:
        return [f"{path} type {kinds[0]} != {kinds[1]}"]
    if kinds[0] == "string" and text_exact and recorded != sent:
        return [f"{path} text {recorded[:60]!r} != {sent[:60]!r}"]
    if kinds[0] == "object":
        found = [f"{path}.{key}: missing" for key in recorded if key not in sent]
        found += [f"{path}.{key}: extra" for key in sent if key not in recorded]
        for key in recorded:
            if key in sent:
                found += _shape(f"{path}.{key}", recorded[key], sent[key], text_exact=False)
        return found
    if kinds[0] == "list":
        found = [] if len(recorded) == len(sent) else [f"{path} length {len(recorded)} != {len(sent)}"]
        for mine, theirs in zip(recorded, sent, strict=False):
            found += _shape(f"{path}[]", mine, theirs, text_exact=False)
        return found
    return []
