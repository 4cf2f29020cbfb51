"""The video feature as assets (group `video`), in lineage order:

    video_downloads[video] ──> video_documents[video] ──> video_dataset

One partition of the dynamic partitions `videos` per video, so each video is its own run: one failing video
never stops another, and a person follows (or re-materializes) one video in the UI. `video_dataset` is not
partitioned: it syncs every current document into the dataset with the sync engine (dataset.py).
"""

import json
from datetime import UTC, datetime
from pathlib import PurePosixPath

import dagster as dg

from difyops_dagster.dify.resource import DifyResource
from difyops_dagster.storage.resources import ArtifactStoreResource
from difyops_dagster.sync.apply import ApplyOptions, apply_sync_plan, read_dataset, wait_until_settled
from difyops_dagster.sync.plan import build_sync_plan
from difyops_dagster.sync.verify import verify_dataset
from difyops_dagster.video.config import VideoSettings, VideoSourceSettings
from difyops_dagster.video.dataset import collect_sources, document_summary, load_checked, owned_documents
from difyops_dagster.video.download import DownloadFailed, download_video
from difyops_dagster.video.library import VideoLibrary
from difyops_dagster.video.markdown import build_document
from difyops_dagster.video.metadata import dataset_metadata, document_metadata, download_metadata, sync_check
from difyops_dagster.video.resources import VideoSiteAccessResource
from difyops_dagster.video.transcribe import TranscriptionUnavailable, build_transcriber
from difyops_dagster.video.transcript import TranscriptError, parse_subtitles
from difyops_dagster.video.ytdl import scrub

GROUP = "video"
VIDEOS = dg.DynamicPartitionsDefinition(name="videos")
DOWNLOAD_POOL = "video_downloads"
WRITE_POOL = "dify_writes"
SYNC_CHECK = "video_dataset_in_sync"
# Network trouble and 5xx/429 from a site are retried; definitive refusals (404, unsupported) raise
# `dg.Failure(allow_retries=False)` and are not.
DOWNLOAD_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
SYNC_RETRY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


class VideoDownloadConfig(dg.Config):
    refresh: bool = False
    """Fetch again even when this video's download archive says it is done (e.g. captions added later)."""


def build_video_assets(settings: VideoSettings) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="video_downloads",
        group_name=GROUP,
        partitions_def=VIDEOS,
        kinds={"python", "ytdlp"},
        pool=DOWNLOAD_POOL,
        retry_policy=DOWNLOAD_RETRY,
        description="One video fetched with yt-dlp into the artifact store: its info JSON, one subtitle track "
        "(manual first, then automatic, in the source's language order), and the media when the source keeps it. "
        "Recorded in the video's download archive: a re-run fetches nothing. A video without usable subtitles is "
        "recorded with the reason (or transcribed, when transcription is configured).",
    )
    def video_downloads(
        context: dg.AssetExecutionContext,
        config: VideoDownloadConfig,
        artifacts: ArtifactStoreResource,
        video_site_access: VideoSiteAccessResource,
    ) -> dg.MaterializeResult:
        key = context.partition_key
        library = VideoLibrary(artifacts.get_store(), settings.storage_prefix)
        ref = library.catalog().videos.get(key)
        if ref is None:
            raise dg.Failure(
                f"{key} is not in the video catalog; video_sources_sensor adds videos", allow_retries=False
            )
        source = settings.source(ref.source) or VideoSourceSettings(name=ref.source, url=ref.url)
        try:
            transcriber = build_transcriber(settings.transcription) if settings.transcription else None
            outcome = download_video(
                ref,
                source,
                settings,
                video_site_access.ytdl_options(settings),
                library,
                lambda level, message: getattr(context.log, level)(message),
                datetime.now(UTC),
                transcriber,
                refresh=config.refresh,
            )
        except DownloadFailed as exc:
            # The video's own URL (scrubbed like every yt-dlp message), so the operator can open what failed.
            where = scrub(ref.url, video_site_access.ytdl_options(settings).secrets())
            raise dg.Failure(f"{key} ({where}): {exc}", allow_retries=exc.retryable) from None
        except TranscriptionUnavailable as exc:
            raise dg.Failure(f"{key}: transcription is configured but cannot run: {exc}", allow_retries=False) from None
        record = outcome.record
        if not outcome.fetched:
            context.log.info(f"{key}: already in its download archive ({record.archive_id}); nothing fetched")
        elif record.status == "no_subtitles":
            context.log.warning(f"{key}: {record.reason}")
        return dg.MaterializeResult(metadata=download_metadata(ref, outcome, library))

    @dg.asset(
        name="video_documents",
        group_name=GROUP,
        partitions_def=VIDEOS,
        deps=[video_downloads],
        kinds={"python", "markdown"},
        description="One video as a Markdown document: a metadata header, then the transcript as paragraphs by "
        "chapter or by time, with timestamps linking back to the video. Fails, with the reason, for a video "
        "without usable subtitles.",
    )
    def video_documents(context: dg.AssetExecutionContext, artifacts: ArtifactStoreResource) -> dg.MaterializeResult:
        key = context.partition_key
        library = VideoLibrary(artifacts.get_store(), settings.storage_prefix)
        record = library.record(key)
        if record is None:
            raise dg.Failure(f"{key} has not been downloaded yet: materialize video_downloads first")
        if record.status == "no_subtitles" or not record.subtitle:
            library.drop_document(key)
            raise dg.Failure(
                f"{key}: {record.reason}",
                metadata={
                    "status": "no_subtitles",
                    "reason": record.reason or "",
                    "url": dg.MetadataValue.url(record.url),
                },
                allow_retries=False,
            )
        info = json.loads(library.get(key, record.info) or b"{}")
        raw = library.get(key, record.subtitle) or b""
        fmt = "srt" if PurePosixPath(record.subtitle).suffix.lower() == ".srt" else "vtt"
        try:
            cues = parse_subtitles(raw.decode("utf-8", errors="replace"), fmt)
        except TranscriptError as exc:
            raise dg.Failure(f"{key}: {record.subtitle}: {exc}", allow_retries=False) from None
        document = build_document(
            info, cues, record.subtitle_language, record.subtitle_kind, settings.paragraph_seconds
        )
        if document.paragraphs == 0:
            library.drop_document(key)
            raise dg.Failure(f"{key}: the subtitle track {record.subtitle} holds no spoken text", allow_retries=False)
        markdown = document.markdown.encode()
        title = str(info.get("title") or key)
        location = library.save_document(key, markdown, document_summary(title, markdown))
        return dg.MaterializeResult(metadata=document_metadata(record, document, markdown, location))

    @dg.asset(
        name="video_dataset",
        group_name=GROUP,
        deps=[video_documents],
        kinds={"dify"},
        pool=WRITE_POOL,
        retry_policy=SYNC_RETRY,
        check_specs=[
            dg.AssetCheckSpec(
                SYNC_CHECK,
                asset="video_dataset",
                description="After the sync, the dataset holds exactly one indexed, current document per video "
                "with a document, and every planned write succeeded.",
            )
        ],
        description=f"Every current video document synced into Dify dataset `{settings.dataset_id}` by the sync "
        "engine (same plan, fingerprint metadata and repairs as the S3 sync). Videos without a document are "
        "listed and skipped; documents of videos no source lists any more are deleted only with "
        "`remove_missing_videos`.",
    )
    def video_dataset(
        context: dg.AssetExecutionContext, dify: DifyResource, artifacts: ArtifactStoreResource
    ) -> dg.MaterializeResult:
        library = VideoLibrary(artifacts.get_store(), settings.storage_prefix)
        catalog = library.catalog()
        if not catalog.sources:
            # No listing yet (or storage moved): an empty source list must never read as "every video removed".
            why = "no video catalog yet: video_sources_sensor has not listed the sources into this storage"
            raise dg.Failure(why, allow_retries=False)
        sources = collect_sources(catalog, library)
        for missing in sources.missing:
            context.log.warning(f"{missing.key}: skipped: {missing.reason}")
        client = dify.dataset_client()
        snapshot = read_dataset(client, settings.dataset_id)
        owned = owned_documents(snapshot.documents, sources, settings.remove_missing_videos)
        plan = build_sync_plan(sources.items, owned, mirror=True)
        context.log.info(f"plan for {settings.dataset_id}: {plan.counts()}")
        report = apply_sync_plan(
            client,
            settings.dataset_id,
            plan,
            lambda item: load_checked(library, item),
            _apply_options(settings),
            context.log.info,
        )
        for failure in report.failures:
            context.log.warning(f"{failure.action} {failure.source_key}: {failure.detail}")
        after = read_dataset(client, settings.dataset_id) if report.outcomes else snapshot
        after = wait_until_settled(client, after, settings.indexing_timeout_s, settings.indexing_poll_s)
        after_owned = owned_documents(after.documents, sources, settings.remove_missing_videos)
        verification = verify_dataset(sources.items, after_owned)
        return dg.MaterializeResult(
            metadata=dataset_metadata(settings.dataset_id, catalog, sources, plan, report),
            check_results=[sync_check(SYNC_CHECK, report, verification)],
        )

    return [video_downloads, video_documents, video_dataset]


def _apply_options(settings: VideoSettings) -> ApplyOptions:
    return ApplyOptions(
        concurrency=settings.upload_concurrency,
        prefetch_workers=min(settings.upload_concurrency, 32),
        indexing_timeout_s=settings.indexing_timeout_s,
        indexing_poll_s=settings.indexing_poll_s,
        first_upload_options={"indexing_technique": settings.indexing_technique, "process_rule": settings.process_rule},
    )
