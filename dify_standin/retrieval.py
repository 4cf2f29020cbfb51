"""The stand-in's retrieval: documents cut into segments, ranked by a deterministic keyword scorer. Pure.

What it imitates is Dify's keyword index (`core/rag/datasource/keyword/jieba/jieba.py`, every 1.x), the one a Dify
without an embedding model has: each segment is indexed under its keywords, a query's keywords are looked up, and
segments are ranked by how many of the query's keywords they carry (`_retrieve_ids_by_query`), best first, cut at
`top_k`. The stand-in's simplifications, all deterministic:

- a document's text is cut at blank lines into paragraphs, and a paragraph longer than 500 words every 500 words
  (Dify's automatic rule merges lines up to 500 tokens);
- keywords are the lower-cased words (`\\w+`) of two or more characters that are not English stop words; a
  segment is indexed under all its words (Dify keeps its 10 best jieba TF-IDF keywords and matches case as is),
  a query contributes its first 10 distinct ones (jieba `extract_keywords(query, 10)`);
- ties keep the documents' creation order and the segments' order within a document (Dify's order for equal
  counts is that of its keyword table, which no client should rely on).

`keyword_search` answers Dify's `score: null` (keyword hits carry no score); every other search method ranks the
same way and answers score = matched / query keywords (0-1), to which `score_threshold` applies.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SEGMENT_WORDS = 500
QUERY_KEYWORDS = 10
SEGMENT_KEYWORDS_SHOWN = 10
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "has", "have", "how",
    "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "than", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when",
    "where", "which", "who", "why", "will", "with", "you", "your",
))  # fmt: skip
_NAMESPACE = uuid.UUID("5e9a0000-0000-4000-8000-00000000005e")


def keywords(text: str) -> list[str]:
    """Distinct keywords in order of first appearance."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) >= 2 and word not in _STOP_WORDS:
            seen.setdefault(word, None)
    return list(seen)


def split_segments(text: str) -> list[str]:
    segments: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        words = paragraph.split()
        for start in range(0, len(words), SEGMENT_WORDS):
            segments.append(" ".join(words[start : start + SEGMENT_WORDS]))
    return [s for s in segments if s]


@dataclass(frozen=True)
class Segment:
    """One indexed chunk of a document; ids are derived from the document's id, batch and position, so they
    are stable across requests and change when the document is re-uploaded (Dify re-segments it)."""

    id: str
    index_node_id: str
    document_id: str
    position: int
    content: str
    keywords: tuple[str, ...]

    @property
    def index_node_hash(self) -> str:
        return hashlib.sha256(self.content.encode()).hexdigest()


@dataclass(frozen=True)
class Hit:
    segment: Segment
    matched: int
    score: float | None


def document_segments(document_id: str, batch: str, text: str) -> list[Segment]:
    result = []
    for position, content in enumerate(split_segments(text), start=1):
        key = f"{document_id}:{batch}:{position}"
        result.append(
            Segment(
                id=str(uuid.uuid5(_NAMESPACE, "segment:" + key)),
                index_node_id=str(uuid.uuid5(_NAMESPACE, "node:" + key)),
                document_id=document_id,
                position=position,
                content=content,
                keywords=tuple(keywords(content)),
            )
        )
    return result


def rank(
    query: str,
    segments: Iterable[Segment],
    *,
    search_method: str,
    top_k: int,
    score_threshold: float | None = None,
) -> list[Hit]:
    """Segments carrying at least one of the query's keywords, most matches first, at most `top_k`."""
    wanted = keywords(query)[:QUERY_KEYWORDS]
    if not wanted or top_k <= 0:
        return []
    scored = []
    for order, segment in enumerate(segments):
        matched = len(set(wanted) & set(segment.keywords))
        if matched:
            scored.append((-matched, order, segment, matched))
    scored.sort(key=lambda row: (row[0], row[1]))
    hits = []
    for _, _, segment, matched in scored:
        score = None if search_method == "keyword_search" else round(matched / len(wanted), 4)
        if score is not None and score_threshold is not None and score < score_threshold:
            continue
        hits.append(Hit(segment, matched, score))
    return hits[:top_k]


def shown_keywords(segment: Segment, limit: int = SEGMENT_KEYWORDS_SHOWN) -> Sequence[str]:
    """What a record lists as the segment's `keywords`: its first ones (Dify stores its top 10)."""
    return segment.keywords[:limit]
