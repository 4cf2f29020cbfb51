"""What every knowledge route needs from the running app: the store, the version's behaviour, the options,
and Dify's lookups with their errors (dataset 404 or 403, document 404)."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, request

from dify_standin.errors import DifyHTTPError, forbidden, invalid_param, not_found
from dify_standin.state import Dataset, Document, Store
from dify_standin.versions import Behaviour


def store() -> Store:
    return current_app.config["STORE"]


def behaviour() -> Behaviour:
    return current_app.config["BEHAVIOUR"]


def options() -> Any:
    return current_app.config["OPTIONS"]


def now() -> float:
    return time.time()


def dataset_or_404(dataset_id: object) -> Dataset:
    """The token decorator's lookup: unknown (or another tenant's) dataset 404, API access disabled 403."""
    dataset = store().datasets.get(str(dataset_id))
    if dataset is None:
        raise not_found("Dataset not found.")
    if not dataset.enable_api:
        raise forbidden("Dataset api access is not enabled.")
    return dataset


def dataset_for_write(dataset_id: object) -> Dataset:
    """The document create / update / delete controllers looked the dataset up themselves before 1.9.0 and
    `raise ValueError("Dataset does not exist.")` (400; recorded on 1.7.2), later the token decorator's 404."""
    if not behaviour().delete_unknown_dataset_404 and store().datasets.get(str(dataset_id)) is None:
        raise invalid_param("Dataset does not exist.")
    return dataset_or_404(dataset_id)


def document_or_404(dataset: Dataset, document_id: object, message: str = "Document Not Exists.") -> Document:
    document = dataset.documents.get(str(document_id))
    if document is None:
        raise not_found(message)
    return document


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def int_arg(name: str, default: int) -> int:
    """`request.args.get(name, default, type=int)`: a value that is not an integer silently becomes the default."""
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


def page_args() -> tuple[int, int, int, int]:
    """(page, limit) as sent (Dify echoes them) and the (page, per_page) Flask-SQLAlchemy really uses:
    per_page capped at 100, and a page or limit below 1 replaced by 1 / 20 (`error_out=False`)."""
    page, limit = int_arg("page", 1), int_arg("limit", 20)
    return page, limit, max(page, 1), min(limit, 100) if limit >= 1 else 20


def forbidden_method() -> DifyHTTPError:
    """A route this version serves for other methods only: Dify's handler answers 405 as JSON."""
    return DifyHTTPError(405, "method_not_allowed", "The method is not allowed for the requested URL.")
