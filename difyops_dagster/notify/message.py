"""What a notification says, independent of the channel: a title, a few lines, a link, a level.

Each channel module turns a `Notification` into its own payload (Slack blocks, DingTalk/WeCom Markdown, an
e-mail); `Delivery` is what came of one attempt. Both are plain data, so payloads are unit-testable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Notification:
    title: str
    lines: tuple[str, ...]
    link: str | None = None
    link_label: str = "Open the report"
    level: Literal["info", "error"] = "info"

    def markdown(self) -> str:
        """Markdown that DingTalk, WeCom and humans read alike (headings, bullets, one link)."""
        parts = [f"### {self.title}", ""]
        parts += [f"- {line}" for line in self.lines]
        if self.link:
            parts += ["", f"[{self.link_label}]({self.link})"]
        return "\n".join(parts)

    def plain(self) -> str:
        parts = [self.title, "", *self.lines]
        if self.link:
            parts += ["", f"{self.link_label}: {self.link}"]
        return "\n".join(parts)


@dataclass(frozen=True)
class Delivery:
    """The outcome of one channel; `detail` is already scrubbed of secrets."""

    channel: str
    ok: bool
    detail: str


def clip_utf8(text: str, max_bytes: int, marker: str = "\n…") -> str:
    """`text` cut to at most `max_bytes` UTF-8 bytes (WeCom counts bytes), never inside a character."""
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    room = max_bytes - len(marker.encode())
    return data[:room].decode(errors="ignore") + marker
