"""Retries: 429 (honouring Retry-After), 5xx and dropped connections are retried where a repeat is safe;
a document create that may have reached Dify is never blindly repeated; timeouts are enforced everywhere.
"""

from __future__ import annotations

import time

import pytest

from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.transport import TransportOptions
from difyops_dagster_tests.dify.conftest import FAST, dataset_client


def _count(standin, method: str, suffix: str) -> int:
    return sum(1 for r in standin.admin.request_log() if r["method"] == method and r["path"].endswith(suffix))


def test_429_is_retried_after_the_retry_after_delay(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "/documents$", "status": 429, "retry_after": 1, "times": 1}])
    started = time.monotonic()
    assert list(datasets.iter_documents(dataset_id)) == []
    assert time.monotonic() - started >= 0.95
    assert _count(standin, "GET", "/documents") == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_on_reads_are_retried_until_success(standin, datasets, dataset_id, status):
    standin.admin.set_faults([{"path": "/documents$", "status": status, "times": 2}])
    assert list(datasets.iter_documents(dataset_id)) == []
    assert _count(standin, "GET", "/documents") == 3


def test_persistent_server_errors_end_in_a_dify_error_naming_the_call(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "/documents$", "status": 503, "message": "upstream down"}])
    with pytest.raises(DifyError) as info:
        list(datasets.iter_documents(dataset_id))
    error = info.value
    assert (error.status, error.code, error.message) == (503, "service_unavailable", "upstream down")
    assert error.endpoint == f"GET /datasets/{dataset_id}/documents" and error.retryable
    assert _count(standin, "GET", "/documents") == FAST.max_retries + 1


def test_a_dropped_connection_on_a_read_is_retried(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "/documents$", "drop": True, "times": 1}])
    assert list(datasets.iter_documents(dataset_id)) == []


def test_a_document_create_is_not_repeated_after_a_server_error(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "create-by-file$", "status": 500, "times": 1}])
    with pytest.raises(DifyError) as info:
        datasets.create_document_by_file(dataset_id, "a.md", b"hello")
    assert info.value.status == 500
    assert _count(standin, "POST", "create-by-file") == 1


def test_a_document_create_rejected_with_429_is_retried(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "create-by-file$", "status": 429, "retry_after": 0, "times": 1}])
    result = datasets.create_document_by_file(dataset_id, "a.md", b"hello")
    assert result.document.name == "a.md"
    assert len(standin.admin.documents(dataset_id)) == 1


def test_a_dropped_create_is_reported_not_repeated(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "create-by-file$", "drop": True, "times": 1}])
    with pytest.raises(DifyError) as info:
        datasets.create_document_by_file(dataset_id, "a.md", b"hello")
    assert info.value.status is None and info.value.code == "connection_error"
    assert _count(standin, "POST", "create-by-file") <= 1


def test_the_read_timeout_is_enforced(standin, dataset_id):
    client = dataset_client(
        standin, TransportOptions(read_timeout_s=0.3, max_retries=1, backoff_factor_s=0.01, rate_limit_per_second=0)
    )
    standin.admin.set_faults([{"path": "/documents$", "latency_ms": 1500}])
    started = time.monotonic()
    with pytest.raises(DifyError) as info:
        list(client.iter_documents(dataset_id))
    assert info.value.code == "timeout"
    assert time.monotonic() - started < 1.4 * 2


def test_a_malformed_body_is_a_clear_error(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "/documents$", "malformed": True, "times": 1}])
    with pytest.raises(DifyError, match="malformed_response"):
        list(datasets.iter_documents(dataset_id))


def test_the_client_side_rate_limit_spaces_requests(standin, dataset_id):
    client = dataset_client(standin, TransportOptions(rate_limit_per_second=10, max_retries=0))
    standin.admin.clear_request_log()
    started = time.monotonic()
    for _ in range(25):
        client.get_dataset(dataset_id)
    elapsed = time.monotonic() - started
    assert elapsed >= 1.3  # 10 burst tokens, then 15 more at 10 per second
