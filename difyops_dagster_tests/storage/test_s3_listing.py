"""The S3 listing streams every page: nothing past the first page is ever missed, keys come back verbatim."""

from __future__ import annotations

from difyops_dagster.storage.s3_listing import iter_s3_objects


def test_every_page_is_listed_with_key_size_and_etag(s3_client, bucket):
    keys = [f"docs/{i:04d} name with spaces é.md" for i in range(25)]
    for key in keys:
        s3_client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s3_client.put_object(Bucket=bucket, Key="other/skip.md", Body=b"x")

    listed = list(iter_s3_objects(s3_client, bucket, "docs/", page_size=7))

    assert [o.key for o in listed] == sorted(keys)
    assert all(o.size == len(o.key.encode()) for o in listed)
    assert all(len(o.etag) == 32 and '"' not in o.etag for o in listed)


def test_an_empty_prefix_yields_nothing(s3_client, bucket):
    assert list(iter_s3_objects(s3_client, bucket, "nothing/")) == []
