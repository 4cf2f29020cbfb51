"""Which subtitle track to use for a video: manual subtitles first, then automatic captions, each in the order of
the configured languages. A pure function over yt-dlp's `subtitles` / `automatic_captions` maps.

yt-dlp, asked for several languages, downloads all of them and prefers manual over automatic only within one
language; the source options ask for something else (a manual track in the second language beats an automatic
one in the first), so the choice is made here and yt-dlp is then asked for exactly that one track.

A preference `en` matches `en` exactly, then YouTube's untranslated original `en-orig`, then regional variants
(`en-US`, `en-GB`); matching ignores case and treats `_` as `-`. Only tracks offered as WebVTT or SRT count:
those are the formats the transcript parser reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

READABLE_FORMATS = ("vtt", "srt")
SUBTITLE_FORMAT = "vtt/srt"  # yt-dlp's `subtitlesformat`, in the same order

Kind = Literal["manual", "automatic", "transcribed"]


@dataclass(frozen=True, slots=True)
class SubtitleChoice:
    language: str
    kind: Kind


def _normal(code: str) -> str:
    return code.replace("_", "-").lower()


def _readable(tracks: Any) -> bool:
    return isinstance(tracks, list) and any(
        isinstance(t, Mapping) and str(t.get("ext", "")).lower() in READABLE_FORMATS for t in tracks
    )


def matching_languages(available: Sequence[str], wanted: str) -> list[str]:
    """Codes in `available` that satisfy the preference `wanted`, best first."""
    target = _normal(wanted)
    exact = [a for a in available if _normal(a) == target]
    original = [a for a in available if _normal(a) == f"{target}-orig"]
    regional = sorted(a for a in available if _normal(a).startswith(target + "-") and a not in original)
    return exact + original + regional


def choose_subtitle(
    subtitles: Mapping[str, Any] | None,
    automatic: Mapping[str, Any] | None,
    languages: Sequence[str],
    accept_auto: bool,
) -> SubtitleChoice | None:
    manual = [code for code, tracks in (subtitles or {}).items() if _readable(tracks)]
    auto = [code for code, tracks in (automatic or {}).items() if _readable(tracks)]
    kinds: list[tuple[Kind, list[str]]] = [("manual", manual)]
    if accept_auto:
        kinds.append(("automatic", auto))
    for kind, codes in kinds:
        for wanted in languages:
            found = matching_languages(codes, wanted)
            if found:
                return SubtitleChoice(found[0], kind)
    return None


def no_subtitle_reason(
    subtitles: Mapping[str, Any] | None,
    automatic: Mapping[str, Any] | None,
    languages: Sequence[str],
    accept_auto: bool,
) -> str:
    """Why `choose_subtitle` found nothing, in words an operator can act on."""
    manual = [_label(code, tracks) for code, tracks in sorted((subtitles or {}).items())]
    auto = [_label(code, tracks) for code, tracks in sorted((automatic or {}).items())]
    wanted = ", ".join(languages)
    if not manual and not auto:
        return "no subtitles: the site offers no subtitles or captions for this video"
    parts = [f"no subtitles in {wanted}"]
    parts.append(f"manual: {', '.join(manual) if manual else 'none'}")
    shown = ", ".join(auto[:10]) + (f" (+{len(auto) - 10} more)" if len(auto) > 10 else "")
    parts.append(f"automatic: {shown or 'none'}" + ("" if accept_auto else " (not accepted by this source)"))
    return "; ".join(parts)


def _label(code: str, tracks: Any) -> str:
    return code if _readable(tracks) else f"{code} (not as WebVTT/SRT)"
