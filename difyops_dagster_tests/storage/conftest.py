"""The storage suite runs against every S3 implementation in `S3_SERVERS` (moto and SeaweedFS)."""

from __future__ import annotations

import pytest

from dify_standin.processes import S3_SERVERS


@pytest.fixture(params=list(S3_SERVERS))
def s3_server(request: pytest.FixtureRequest):
    """The S3 server of this parametrization, one running server per implementation and worker."""
    return request.getfixturevalue(f"{request.param}_s3_server")
