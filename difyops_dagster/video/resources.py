"""`VideoSiteAccessResource` (key `video_site_access`): the two secrets yt-dlp may need, as `dg.EnvVar`s.

The cookies file path and the proxy URL are resolved by Dagster at launch; the fields are `repr=False`, so
neither the UI, a repr, nor a log line shows them, and `ytdl.py` scrubs them out of yt-dlp's own messages.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from difyops_dagster.video.config import VideoSettings
from difyops_dagster.video.ytdl import YtdlOptions


class VideoSiteAccessResource(dg.ConfigurableResource):
    """Credentials for video sites: a cookies.txt path and a proxy URL, both optional."""

    cookies_file: str | None = Field(default=None, repr=False, description="Path of a Netscape cookies.txt.")
    proxy: str | None = Field(default=None, repr=False, description="Proxy URL for yt-dlp.")

    def ytdl_options(self, settings: VideoSettings) -> YtdlOptions:
        return YtdlOptions(
            cookies_file=self.cookies_file or None,
            proxy=self.proxy or None,
            sleep_interval_s=settings.sleep_interval_s,
            rate_limit_bytes_per_s=settings.rate_limit_bytes_per_s,
            retries=settings.retries,
            socket_timeout_s=settings.socket_timeout_s,
            extra_extractors=tuple(settings.extra_extractors),
        )


def build_site_access_resource(settings: VideoSettings) -> VideoSiteAccessResource:
    return VideoSiteAccessResource(
        cookies_file=settings.cookies_file.as_env_var() if settings.cookies_file else None,
        proxy=settings.proxy.as_env_var() if settings.proxy else None,
    )
