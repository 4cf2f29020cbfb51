"""A content fingerprint of an S3 object that the listing already gives for free.

`ETag` changes whenever the content changes (an MD5 for single-part uploads, a digest of part digests for
multipart ones), so `etag:size` detects a changed object of the same size without downloading anything. The
`v1:` prefix lets a future format force one clean re-sync instead of silently mismatching.
"""

from __future__ import annotations


def object_fingerprint(etag: str, size: int) -> str:
    return "v1:" + etag.strip('"') + f":{size}"
