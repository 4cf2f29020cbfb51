"""A key never shows: not in a log line (urllib3's DEBUG lines included), an exception, a repr, the resource's
UI config or a run's event log — whether the calls succeed, fail at Dify, or fail in transport.
"""

import logging
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._serdes import serialize_value

from dify_standin.processes import StandinProcess
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.resource import DifyResource
from difyops_dagster_tests.dify.conftest import FAST

DATASET_SECRET = "dataset-SECRET-7f3a9c0e51d2"
APP_SECRET = "app-SECRET-b41d77e09a6f"
WRONG_DATASET_KEY = "dataset-SECRET-wrong-0c2e"
WRONG_APP_KEY = "app-SECRET-wrong-93d1"
MARK = "SECRET-"  # in every key above, and in nothing else the tests produce


@pytest.fixture(scope="module")
def keyed_standin() -> Iterator[StandinProcess]:
    """A stand-in whose own dataset key is the distinctive one, so calls with it succeed."""
    with StandinProcess(dataset_key=DATASET_SECRET) as server:
        yield server


@pytest.fixture
def resource(keyed_standin, monkeypatch) -> DifyResource:
    keyed_standin.admin.reset()
    monkeypatch.setenv("DIFY_KEY_UNDER_TEST", DATASET_SECRET)
    return DifyResource(
        base_url=keyed_standin.api_url,
        dataset_api_key=dg.EnvVar("DIFY_KEY_UNDER_TEST"),
        max_retries=FAST.max_retries,
        backoff_factor_s=FAST.backoff_factor_s,
        backoff_max_s=FAST.backoff_max_s,
        read_timeout_s=0.5,
        rate_limit_per_second=0,
    )


def _failure_text(call) -> list[str]:
    with pytest.raises(DifyError) as info:
        call()
    return [str(info.value), repr(info.value), repr(info.value.args), info.value.endpoint, info.value.message]


def _assert_no_secret(texts: list[str]) -> None:
    leaks = [text[max(0, text.index(MARK) - 100) :][:200] for text in texts if MARK in text]
    assert not leaks


def test_no_key_in_logs_exceptions_or_reprs_of_succeeding_and_failing_calls(keyed_standin, resource, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    admin = keyed_standin.admin
    dataset_id = admin.create_dataset("kb", indexing_technique="economy", process_rule={"mode": "automatic"})["id"]
    admin.create_app("echo", APP_SECRET)
    live = resource.model_copy(update={"dataset_api_key": DATASET_SECRET})  # resolved, as in a run
    datasets, apps = live.dataset_client(), live.app_client(APP_SECRET)
    texts = [repr(live), str(live), repr(datasets), repr(apps), repr(datasets.transport), repr(apps.transport)]

    # succeeding calls
    doc = datasets.create_document_by_file(dataset_id, "a.md", b"hello").document
    fields = datasets.ensure_metadata_fields(dataset_id, {"etag": "string"})
    datasets.set_document_metadata(dataset_id, [(doc.id, {"etag": "e"})], fields)
    texts += [repr(d) for d in datasets.iter_documents(dataset_id, keyword="a")]
    run = apps.run_workflow({"query": "x"}, user="u")
    texts += [repr(run), repr(list(apps.stream_workflow({"query": "y"}, user="u")))]
    texts += [repr(apps.get_workflow_run(run.workflow_run_id)), repr(list(apps.iter_workflow_logs(keyword="x")))]

    # failing calls: Dify errors, retried and not, a dropped connection, a timeout, a refused key
    admin.set_faults(
        [
            {"path": "/documents$", "status": 500},
            {"path": "create-by-file$", "drop": True},
            {"path": "/info$", "status": 429, "retry_after": 0},
            {"path": "/parameters$", "latency_ms": 1500},
        ]
    )
    texts += _failure_text(lambda: list(datasets.iter_documents(dataset_id)))
    texts += _failure_text(lambda: datasets.create_document_by_file(dataset_id, "b.md", b"x"))
    texts += _failure_text(apps.info)
    texts += _failure_text(apps.parameters)
    texts += _failure_text(lambda: live.app_client(WRONG_APP_KEY).run_workflow({}, user="u"))
    texts += _failure_text(
        lambda: live.model_copy(update={"dataset_api_key": WRONG_DATASET_KEY}).dataset_client().get_dataset(dataset_id)
    )

    captured = capsys.readouterr()
    texts += [caplog.text, captured.out, captured.err]
    assert "GET /v1/datasets" in caplog.text  # urllib3's DEBUG lines were captured, and hold no key
    _assert_no_secret(texts)


def test_the_ui_config_shows_the_variable_name_not_the_key(resource):
    snapshot = serialize_value(
        RepositorySnap.from_def(dg.Definitions(resources={"dify": resource}).get_repository_def())
    )
    assert "DIFY_KEY_UNDER_TEST" in snapshot
    _assert_no_secret([snapshot, repr(resource), str(resource), repr(resource.get_resource_definition())])


@pytest.mark.slow
def test_a_run_using_the_resource_logs_no_key_when_it_succeeds_or_fails(keyed_standin, resource, capsys):
    dataset_id = keyed_standin.admin.create_dataset("kb")["id"]

    @dg.asset
    def probe(context: dg.AssetExecutionContext, dify: DifyResource) -> dg.MaterializeResult:
        context.log.info(f"resource: {dify!r}")
        client = dify.dataset_client()
        dataset = client.get_dataset(dataset_id)
        return dg.MaterializeResult(metadata={"dataset": dataset.name, "client": repr(client)})

    @dg.asset
    def failing_probe(dify: DifyResource) -> None:
        dify.dataset_client().get_dataset("00000000-0000-4000-8000-000000000000")

    with dg.instance_for_test() as instance:
        ok = dg.materialize([probe], resources={"dify": resource}, instance=instance)
        failed = dg.materialize([failing_probe], resources={"dify": resource}, instance=instance, raise_on_error=False)
        events = [
            repr(r.event_log_entry) for run in (ok, failed) for r in instance.get_records_for_run(run.run_id).records
        ]
        runs = [repr(instance.get_run_by_id(run.run_id)) for run in (ok, failed)]
    assert ok.success and not failed.success
    text = "\n".join(events)
    assert "Dataset not found" in text  # the failure's DifyError reached the event log, without the key
    captured = capsys.readouterr()
    _assert_no_secret([text, *runs, captured.out, captured.err])
