"""The key never shows: not in a log line (urllib3 included), an exception, a repr or the resource's config."""

import logging

import dagster as dg
import pytest

from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.resource import DifyResource
from difyops_dagster_tests.dify.conftest import FAST, dataset_client

SECRET = "dataset-SECRET-7f3a9c0e51d2"


def test_the_key_appears_in_no_log_exception_or_repr(standin, dataset_id, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    wrong = type("S", (), {"api_url": standin.api_url, "dataset_key": SECRET})()
    client = dataset_client(wrong, FAST)
    texts = [repr(client), repr(client.transport)]
    standin.admin.set_faults([{"path": "/documents$", "status": 500}])
    for call in (lambda: client.get_dataset(dataset_id), lambda: list(client.iter_documents(dataset_id))):
        with pytest.raises(DifyError) as info:
            call()
        texts += [str(info.value), repr(info.value), info.value.endpoint]
    captured = capsys.readouterr()
    texts += [caplog.text, captured.out, captured.err]
    assert all(SECRET not in text for text in texts)


def test_the_resource_never_shows_the_key_in_a_run(standin, monkeypatch, capsys):

    monkeypatch.setenv("DIFY_TEST_KEY", SECRET)
    resource = DifyResource(base_url=standin.api_url, dataset_api_key=dg.EnvVar("DIFY_TEST_KEY"), max_retries=0)

    @dg.asset
    def probe(context: dg.AssetExecutionContext, dify: DifyResource) -> None:
        context.log.info(f"resource: {dify!r}")
        dify.dataset_client().get_dataset("00000000-0000-4000-8000-000000000000")

    with dg.instance_for_test() as instance:
        result = dg.materialize([probe], resources={"dify": resource}, instance=instance, raise_on_error=False)
        records = instance.get_records_for_run(result.run_id).records
        event_text = "\n".join(repr(r.event_log_entry) for r in records)
    assert not result.success  # the wrong key is refused with a 401
    assert "Access token is invalid" in event_text
    captured = capsys.readouterr()
    assert SECRET not in event_text + captured.out + captured.err + repr(resource)
