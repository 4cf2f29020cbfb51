"""Dagster resources for S3 and the artifact store, built from settings."""

from __future__ import annotations

from typing import Literal

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field

from difyops_dagster.settings import S3Settings, StorageSettings
from difyops_dagster.storage.artifacts import ArtifactStore, LocalArtifactStore, S3ArtifactStore


def build_s3_resource(settings: S3Settings) -> S3Resource:
    """dagster-aws's S3Resource, pointed at any S3-compatible endpoint; keys arrive as EnvVar."""
    kwargs: dict = {"region_name": settings.region_name}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    if settings.access_key_id and settings.secret_access_key:
        kwargs["aws_access_key_id"] = settings.access_key_id.as_env_var()
        kwargs["aws_secret_access_key"] = settings.secret_access_key.as_env_var()
    return S3Resource(**kwargs)


class ArtifactStoreResource(dg.ConfigurableResource):
    """Where reports, downloads and other artifacts are written: a local folder or an S3 bucket/prefix."""

    kind: Literal["local", "s3"] = Field(default="local", description="`local` or `s3`.")
    local_dir: str = Field(default="var/artifacts", description="Folder for kind=local.")
    bucket: str | None = Field(default=None, description="Bucket for kind=s3.")
    prefix: str = Field(default="difyops/", description="Key prefix for kind=s3.")
    s3: S3Resource

    def get_store(self) -> ArtifactStore:
        if self.kind == "s3":
            if not self.bucket:
                raise ValueError("storage.bucket is required when storage.kind is s3")
            return S3ArtifactStore(self.s3.get_client(), self.bucket, self.prefix)
        return LocalArtifactStore(self.local_dir)


def build_artifact_store_resource(settings: StorageSettings, s3: S3Resource) -> ArtifactStoreResource:
    return ArtifactStoreResource(
        kind=settings.kind,
        local_dir=settings.local_dir,
        bucket=settings.bucket,
        prefix=settings.prefix,
        s3=s3,
    )
