"""Content fingerprints: the value in a document's `fingerprint` metadata that says which content it holds.

For S3 objects the sync uses `etag:size`, which the listing gives for free: the ETag changes whenever the
content changes (an MD5 for single-part uploads, a digest of the part digests for multipart ones), so a changed
object of the same size is detected without downloading anything, and a no-op re-sync of 10,000 objects reads
no object at all. A content hash would need every object downloaded on every run. The one false positive (the
same bytes re-uploaded as multipart get another ETag) costs one re-upload, never a missed change.

Sources that are generated (the video feature's Markdown) have no ETag; they use a SHA-256 of the bytes.
The `v1:` / `sha256:` prefixes keep the two kinds apart and let a future format force one clean re-sync
instead of silently mismatching.
"""

from __future__ import annotations

import hashlib


def object_fingerprint(etag: str, size: int) -> str:
    return "v1:" + etag.strip('"') + f":{size}"


def content_fingerprint(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()
