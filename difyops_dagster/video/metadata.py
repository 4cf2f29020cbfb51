"""What the video assets show in the UI: readable metadata, a Markdown preview, a table per video.

Everything here ends up in Dagster's event log, so it carries locations, counts and reasons, never a cookie, a
proxy URL or a request header.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from difyops_dagster.sync.models import ApplyReport, SyncPlan
from difyops_dagster.sync.verify import Verification
from difyops_dagster.video.catalog import Catalog
from difyops_dagster.video.dataset import SOURCE_KEY_PREFIX, VideoSources
from difyops_dagster.video.download import DownloadOutcome
from difyops_dagster.video.library import DownloadRecord, VideoLibrary
from difyops_dagster.video.markdown import VideoDocument
from difyops_dagster.video.sources import VideoRef

PREVIEW_CHARS = 6000
TABLE_ROWS = 200
EXAMPLES = 5


def download_metadata(ref: VideoRef, outcome: DownloadOutcome, library: VideoLibrary) -> dict[str, Any]:
    record = outcome.record
    metadata: dict[str, Any] = {
        "status": record.status,
        "fetched": outcome.fetched,
        "url": dg.MetadataValue.url(ref.url),
        "source": ref.source,
        "archive_id": record.archive_id,
        "folder": dg.MetadataValue.path(library.location(ref.key, "")),
        "bytes_fetched": sum(outcome.stored.values()),
    }
    if record.subtitle:
        metadata["subtitle"] = f"{record.subtitle_language} ({record.subtitle_kind}): {record.subtitle}"
    if record.media:
        metadata["media"] = dg.MetadataValue.path(library.location(ref.key, record.media))
    if record.reason:
        metadata["reason"] = record.reason
    return metadata


def document_metadata(
    record: DownloadRecord, document: VideoDocument, markdown: bytes, location: str
) -> dict[str, Any]:
    preview = document.markdown
    if len(preview) > PREVIEW_CHARS:
        preview = preview[:PREVIEW_CHARS].rsplit("\n", 1)[0] + f"\n\n*… {len(document.markdown):,} characters in all*"
    return {
        "preview": dg.MetadataValue.md(preview),
        "document": dg.MetadataValue.path(location),
        "url": dg.MetadataValue.url(record.url),
        "transcript": f"{record.subtitle_language} ({record.subtitle_kind})",
        "sections": document.sections,
        "paragraphs": document.paragraphs,
        "words": document.words,
        "bytes": len(markdown),
    }


def dataset_metadata(
    dataset_id: str,
    catalog: Catalog,
    sources: VideoSources,
    plan: SyncPlan,
    report: ApplyReport,
) -> dict[str, Any]:
    failed = {o.source_key: o.detail for o in report.failures}
    actions = {s.source_key: "create" for s in plan.create}
    actions.update({u.source.source_key: "update" for u in plan.update})
    actions.update({r.source.source_key: "repair" for r in plan.repair})
    rows = []
    for item in sources.items:
        status = actions.get(item.source_key, "unchanged")
        detail = failed.get(item.source_key, "")
        rows.append(
            _row(
                item.source_key[len(SOURCE_KEY_PREFIX) :],
                item.document_name,
                f"{status} failed" if detail else status,
                detail,
            )
        )
    for missing in sources.missing:
        rows.append(_row(missing.key, missing.title or "", "skipped: no document", missing.reason))
    rows += [_row(d.document.source_key or d.document.name, d.document.name, "deleted", d.reason) for d in plan.delete]
    return {
        "dataset_id": dataset_id,
        "videos_listed": len(catalog.current_keys()),
        "documents": len(sources.items),
        "missing_documents": len(sources.missing),
        **{f"plan_{name}": count for name, count in plan.counts().items()},
        "failed": len(report.failures),
        "videos": dg.MetadataValue.table(
            records=rows[:TABLE_ROWS],
            schema=dg.TableSchema(
                columns=[
                    dg.TableColumn("video", "string"),
                    dg.TableColumn("document", "string"),
                    dg.TableColumn("status", "string"),
                    dg.TableColumn("detail", "string"),
                ]
            ),
        ),
        "source_errors": dg.MetadataValue.md(
            "\n".join(f"- `{s.name}`: {s.error}" for s in catalog.sources.values() if s.error) or "none"
        ),
    }


def _row(video: str, document: str, status: str, detail: str) -> dg.TableRecord:
    return dg.TableRecord({"video": video, "document": document, "status": status, "detail": detail})


def sync_check(name: str, report: ApplyReport, verification: Verification) -> dg.AssetCheckResult:
    v = verification
    problems = [f"{o.action} {o.source_key}: {o.detail}" for o in report.failures]
    problems += [f"missing in Dify: {k}" for k in v.missing]
    problems += [f"stale in Dify: {k}" for k in v.stale]
    problems += [f"not ours any more: {k}" for k in v.unexpected]
    problems += [f"duplicated: {k}" for k in v.duplicates]
    problems += [f"indexing error: {k}" for k in v.errors]
    problems += [f"still indexing: {k}" for k in v.not_indexed]
    metadata: dict[str, Any] = {
        "expected": v.expected,
        "documents": v.documents,
        "failed_writes": len(report.failures),
        "missing": len(v.missing),
        "stale": len(v.stale),
        "duplicates": len(v.duplicates),
        "not_indexed": len(v.not_indexed),
        "errors": len(v.errors),
    }
    if problems:
        metadata["examples"] = dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:EXAMPLES]))
    return dg.AssetCheckResult(
        check_name=name,
        passed=not problems,
        metadata=metadata,
        description=f"{len(problems)} problem(s), e.g. {problems[0]}" if problems else None,
    )
