"""`video_sources_sensor`: expands the sources, adds a `videos` partition per new video and requests its run.

Each tick asks yt-dlp what every source lists (flat: one request per playlist page), updates the catalog in the
artifact store when the listing changed, and returns a `SensorResult` that adds the new keys to the dynamic
partitions and requests one run per new video (`run_key` = the partition key, so a lost cursor update can never
start a video twice). Videos that are already partitions are never requested again: re-running a video is a
decision made in the UI. Nothing new -> `SkipReason` saying how many videos are listed and which sources failed.

The cursor remembers which partition key each URL-only entry (an RSS item, a link) resolved to, so those are
resolved with a request of their own only once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import dagster as dg

from difyops_dagster.storage.resources import ArtifactStoreResource
from difyops_dagster.video.assets import VIDEOS
from difyops_dagster.video.catalog import new_keys, resolution_cache, update_catalog
from difyops_dagster.video.config import VideoSettings
from difyops_dagster.video.library import VideoLibrary
from difyops_dagster.video.resources import VideoSiteAccessResource
from difyops_dagster.video.sources import expand_sources

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition


def read_cursor(cursor: str | None) -> dict[str, str]:
    """The URL -> key resolutions of earlier ticks; anything unreadable is a first look."""
    try:
        value = json.loads(cursor) if cursor else {}
    except ValueError:
        return {}
    resolved = value.get("resolved") if isinstance(value, dict) else None
    return {str(k): str(v) for k, v in resolved.items()} if isinstance(resolved, dict) else {}


def build_sources_sensor(settings: VideoSettings, job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name="video_sources_sensor",
        job=job,
        minimum_interval_seconds=settings.sensor_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Expands the configured video sources with yt-dlp; each new video becomes a `videos` partition "
        "and gets one run of video_downloads + video_documents. Skips (with the reason) when nothing is new.",
    )
    def video_sources_sensor(
        context: dg.SensorEvaluationContext,
        artifacts: ArtifactStoreResource,
        video_site_access: VideoSiteAccessResource,
    ):
        library = VideoLibrary(artifacts.get_store(), settings.storage_prefix)
        before = library.catalog()
        resolved = read_cursor(context.cursor)
        expansions = expand_sources(
            settings,
            video_site_access.ytdl_options(settings),
            lambda level, message: getattr(context.log, level)(message),
            resolution_cache(before, resolved),
        )
        catalog = update_catalog(before, expansions, datetime.now(UTC))
        if not catalog.same_listing(before):
            library.save_catalog(catalog)
        for failed in (e for e in expansions if e.error):
            context.log.warning(f"source {failed.source}: {failed.error} (its earlier videos stay listed)")
        for expansion in expansions:
            resolved.update(expansion.resolved)
        cursor = json.dumps({"resolved": {u: k for u, k in sorted(resolved.items()) if k in catalog.videos}})
        new = new_keys(catalog, context.instance.get_dynamic_partitions(VIDEOS.name))
        if not new:
            context.update_cursor(cursor)
            errors = sum(1 for e in expansions if e.error)
            failed_note = f"; {errors} source(s) could not be read" if errors else ""
            return dg.SkipReason(
                f"no new videos: {len(catalog.current_keys())} listed by {len(settings.sources)} source(s){failed_note}"
            )
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=key, run_key=key) for key in new],
            dynamic_partitions_requests=[VIDEOS.build_add_request(new)],
            cursor=cursor,
        )

    return video_sources_sensor
