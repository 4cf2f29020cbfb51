"""Which dataset documents the video sync may touch, and what the shared sync plan then does with them.

The dataset can hold other documents (uploaded by hand, another feed): they are never handed to the plan. A
current video without a document keeps its Dify document as it is. A document of a video no source lists any more
is deleted only with `remove_missing_videos`. Over the owned subset the plan mirrors the sources, so a changed
transcript is an update of the same document and an interrupted upload is repaired, as in the S3 sync.
"""

from __future__ import annotations

from difyops_dagster.sync.fingerprint import content_fingerprint
from difyops_dagster.sync.models import DatasetDocument
from difyops_dagster.sync.plan import build_sync_plan
from difyops_dagster.video.dataset import (
    MissingDocument,
    VideoSources,
    owned_documents,
    video_document_name,
    video_source_item,
)

A = video_source_item("youtube:aaa", "Talk A", b"# Talk A\n")
B = video_source_item("youtube:bbb", "Talk B", b"# Talk B\n")
SOURCES = VideoSources((A, B), (MissingDocument("generic:none~1", "No captions", "no subtitles"),))


def doc(doc_id: str, name: str, source_key: str | None, fingerprint: str | None = None) -> DatasetDocument:
    return DatasetDocument(doc_id, name, "completed", True, source_key, fingerprint)


def test_a_document_name_is_readable_unique_and_safe_for_dify():
    assert video_document_name("youtube:aaa", "Talk / part 1") == "Talk \u2215 part 1 [youtube:aaa].md"
    assert video_document_name("generic:clip~1", None) == "generic:clip~1.md"
    long = video_document_name("youtube:aaa", "x" * 500)
    assert len(long) <= 200 and long.endswith("[youtube:aaa].md")


def test_foreign_documents_are_never_planned_over():
    documents = [
        doc("1", A.document_name, A.source_key, A.fingerprint),
        doc("2", "handbook.pdf", None),
        doc("3", "notes.md", "docs/notes.md", "v1:x:1"),
    ]
    owned = owned_documents(documents, SOURCES, remove_missing=True)
    assert [d.id for d in owned] == ["1"]
    plan = build_sync_plan(SOURCES.items, owned)
    assert plan.counts() == {
        "create": 1, "update": 0, "delete": 0, "unchanged": 1, "repair": 0, "restore": 0, "rejected": 0
    }  # fmt: skip


def test_a_video_without_a_document_keeps_its_dify_document():
    documents = [doc("9", "No captions [generic:none~1].md", "video/generic:none~1", "sha256:old")]
    assert owned_documents(documents, SOURCES, remove_missing=True) == ()


def test_documents_of_removed_videos_are_deleted_only_when_configured():
    gone = doc("7", "Old [youtube:old].md", "video/youtube:old", "sha256:x")
    assert owned_documents([gone], SOURCES, remove_missing=False) == ()
    owned = owned_documents([gone], SOURCES, remove_missing=True)
    plan = build_sync_plan(SOURCES.items, owned)
    assert [d.document.id for d in plan.delete] == ["7"]


def test_a_changed_transcript_updates_the_same_document():
    documents = [doc("1", A.document_name, A.source_key, content_fingerprint(b"# Talk A (old)\n"))]
    plan = build_sync_plan(SOURCES.items, owned_documents(documents, SOURCES, remove_missing=False))
    assert [(u.document_id, u.reason) for u in plan.update] == [("1", "content changed")]


def test_an_upload_interrupted_before_tagging_is_repaired():
    documents = [doc("5", B.document_name, None)]
    owned = owned_documents(documents, SOURCES, remove_missing=False)
    plan = build_sync_plan(SOURCES.items, owned)
    assert [(r.source.source_key, r.delete_ids, r.recreate) for r in plan.repair] == [
        ("video/youtube:bbb", ("5",), True)
    ]
