"""Retries, timeouts and the rate limit, measured from the stand-in's own request log.

429 (honouring Retry-After), 5xx and dropped connections are retried with backoff where a repeat is safe; a
document create that may have reached Dify is never blindly repeated (Dify would re-index it, and a
workflow run would run twice); read timeouts are enforced; the client-side rate limit is one budget shared
by every client of a resource, across threads.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import replace

import pytest

from difyops_dagster.dify.client import DifyAppClient, DifyDatasetClient
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions
from difyops_dagster_tests.dify.conftest import APP_KEY, FAST, dataset_client


def _calls(standin, method: str, suffix: str) -> list[dict]:
    return [r for r in standin.admin.request_log() if r["method"] == method and r["path"].endswith(suffix)]


def _gaps(calls: list[dict]) -> list[float]:
    times = [c["time"] for c in calls]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_429_is_retried_after_the_retry_after_delay(standin, dataset_id):
    client = dataset_client(standin, replace(FAST, backoff_max_s=5))
    standin.admin.set_faults([{"path": "/documents$", "status": 429, "retry_after": 1, "times": 1}])
    assert list(client.iter_documents(dataset_id)) == []
    calls = _calls(standin, "GET", "/documents")
    assert [c["status"] for c in calls] == [429, 200]
    assert 1.0 <= _gaps(calls)[0] < 2.0


def test_a_retry_after_longer_than_the_backoff_cap_waits_only_the_cap(standin, dataset_id):
    client = dataset_client(standin, replace(FAST, backoff_max_s=0.2))
    standin.admin.set_faults([{"path": "/documents$", "status": 429, "retry_after": 3600, "times": 1}])
    assert list(client.iter_documents(dataset_id)) == []
    assert _gaps(_calls(standin, "GET", "/documents"))[0] < 1.0


def test_server_errors_on_reads_are_retried_with_growing_backoff(standin, dataset_id):
    # urllib3: the first retry is immediate, then factor * 2**(n-1) plus up to `factor` of jitter
    client = dataset_client(standin, replace(FAST, backoff_factor_s=0.15, backoff_max_s=5))
    standin.admin.set_faults([{"path": "/documents$", "status": 503, "times": 3}])
    assert list(client.iter_documents(dataset_id)) == []
    calls = _calls(standin, "GET", "/documents")
    assert [c["status"] for c in calls] == [503, 503, 503, 200]
    first, second, third = _gaps(calls)
    assert first < 0.15
    assert 0.3 <= second < 0.3 + 0.15 + 0.3
    assert 0.6 <= third < 0.6 + 0.15 + 0.3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_every_retryable_server_error_on_a_read_is_retried_until_success(standin, datasets, dataset_id, status):
    standin.admin.set_faults([{"path": "/documents$", "status": status, "times": 2}])
    assert list(datasets.iter_documents(dataset_id)) == []
    assert [c["status"] for c in _calls(standin, "GET", "/documents")] == [status, status, 200]


def test_persistent_server_errors_end_in_a_dify_error_naming_the_call(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "/documents$", "status": 503, "message": "upstream down"}])
    with pytest.raises(DifyError) as info:
        list(datasets.iter_documents(dataset_id))
    error = info.value
    assert (error.status, error.code, error.message) == (503, "service_unavailable", "upstream down")
    assert error.endpoint == f"GET /datasets/{dataset_id}/documents" and error.retryable
    assert len(_calls(standin, "GET", "/documents")) == FAST.max_retries + 1


def test_a_dropped_connection_on_a_read_is_retried(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "/documents$", "drop": True, "times": 1}])
    assert list(datasets.iter_documents(dataset_id)) == []
    assert len(_calls(standin, "GET", "/documents")) == 2


def test_metadata_writes_replace_every_value_so_they_are_retried(standin, datasets, dataset_id):
    doc = datasets.create_document_by_file(dataset_id, "a.md", b"x").document
    fields = datasets.ensure_metadata_fields(dataset_id, {"etag": "string"})
    standin.admin.set_faults([{"path": "/documents/metadata$", "status": 502, "times": 1}])
    datasets.set_document_metadata(dataset_id, [(doc.id, {"etag": "e1"})], fields)
    assert [c["status"] for c in _calls(standin, "POST", "/documents/metadata")] == [502, 200]
    assert standin.admin.documents(dataset_id)[0]["metadata"] == {"etag": "e1"}


def test_a_document_create_is_not_repeated_after_a_server_error(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "create-by-file$", "status": 500, "times": 1}])
    with pytest.raises(DifyError) as info:
        datasets.create_document_by_file(dataset_id, "a.md", b"hello")
    error = info.value
    assert (error.status, error.code, error.retryable) == (500, "internal_server_error", True)
    assert error.endpoint == f"POST /datasets/{dataset_id}/document/create-by-file"
    assert len(_calls(standin, "POST", "create-by-file")) == 1


def test_a_document_create_rejected_with_429_is_retried(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "create-by-file$", "status": 429, "retry_after": 0, "times": 1}])
    result = datasets.create_document_by_file(dataset_id, "a.md", b"hello")
    assert result.document.name == "a.md"
    assert [c["status"] for c in _calls(standin, "POST", "create-by-file")] == [429, 200]
    assert len(standin.admin.documents(dataset_id)) == 1


def test_a_dropped_create_is_reported_not_repeated(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "create-by-file$", "drop": True, "times": 1}])
    with pytest.raises(DifyError) as info:
        datasets.create_document_by_file(dataset_id, "a.md", b"hello")
    assert info.value.status is None and info.value.code == "connection_error" and info.value.retryable
    assert len(_calls(standin, "POST", "create-by-file")) == 1


def test_a_workflow_run_is_not_repeated_after_a_server_error(standin, apps):
    standin.admin.set_faults([{"path": "/workflows/run$", "status": 502, "times": 1}])
    with pytest.raises(DifyError) as info:
        apps.run_workflow({"query": "x"}, user="tester")
    assert (info.value.status, info.value.endpoint) == (502, "POST /workflows/run")
    assert len(_calls(standin, "POST", "/workflows/run")) == 1


def test_the_read_timeout_is_enforced(standin, dataset_id):
    client = dataset_client(
        standin, TransportOptions(read_timeout_s=0.3, max_retries=1, backoff_factor_s=0.01, rate_limit_per_second=0)
    )
    standin.admin.set_faults([{"path": "/documents$", "latency_ms": 900}])
    started = time.monotonic()
    with pytest.raises(DifyError) as info:
        list(client.iter_documents(dataset_id))
    assert (info.value.status, info.value.code) == (None, "timeout")
    assert time.monotonic() - started < 1.5  # two attempts cut at 0.3 s (an uncut one would have succeeded)
    deadline = time.monotonic() + 5  # let the stand-in finish both slow answers before the next test resets it
    while len(_calls(standin, "GET", "/documents")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_malformed_body_is_a_clear_error(standin, datasets, dataset_id):
    standin.admin.set_faults([{"path": "/documents$", "malformed": True, "times": 1}])
    with pytest.raises(DifyError) as info:
        list(datasets.iter_documents(dataset_id))
    assert (info.value.status, info.value.code) == (200, "malformed_response")


def test_the_rate_limit_is_one_budget_shared_by_every_client_and_thread(standin, dataset_id, app):
    """10 requests/s with a burst of 10: the n-th request cannot start before (n - 10) / 10 s."""
    rate, per_thread = 10.0, 8
    options = replace(FAST, rate_limit_per_second=rate)
    limiter = RateLimiter(rate)
    datasets = DifyDatasetClient(
        DifyTransport(standin.api_url, standin.dataset_key, options, limiter), DifyCompat((1, 13))
    )
    apps = DifyAppClient(DifyTransport(standin.api_url, APP_KEY, options, limiter), DifyCompat((1, 13)))
    standin.admin.clear_request_log()
    calls = [lambda: datasets.get_dataset(dataset_id), apps.info] * 2
    threads = [threading.Thread(target=lambda c=c: [c() for _ in range(per_thread)]) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    ours = (f"/v1/datasets/{dataset_id}", "/v1/info")  # a slow request of an earlier test may still land in the log
    times = sorted(r["time"] for r in standin.admin.request_log() if r["path"] in ours)
    assert len(times) == len(calls) * per_thread
    for n, moment in enumerate(times, start=1):
        assert moment - times[0] >= (n - rate) / rate - 0.15, f"request {n} came too early"
    assert times[-1] - times[0] < (len(times) - rate) / rate + 1.5  # and the limit does not over-throttle
