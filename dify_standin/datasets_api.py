"""`/v1/datasets`: list, create, get, patch, delete (shared/dify-api.md §2).

Names are 1-40 characters and unique in the workspace (409 `dataset_name_duplicate`); a dataset used by an app
cannot be deleted (409 `dataset_in_use`; seed `app_count` through the admin API to get one). The list pages
like the document list: `has_more = len(data) == limit`.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from dify_standin.errors import DifyHTTPError, invalid_param
from dify_standin.knowledge import behaviour, dataset_or_404, json_body, now, page_args, store
from dify_standin.knowledge_json import dataset_json
from dify_standin.state import Dataset, new_id
from dify_standin.uploads import TECHNIQUES
from dify_standin.validation import DatasetCreatePayload, check_body

bp = Blueprint("datasets", __name__, url_prefix="/v1")

NAME_HELP = "type is required. Name must be between 1 to 40 characters."  # the reqparse help of `name`
PERMISSIONS = ("only_me", "all_team_members", "partial_members")
PATCHABLE = (
    "name",
    "description",
    "indexing_technique",
    "permission",
    "retrieval_model",
    "embedding_model",
    "embedding_model_provider",
)


def _name_taken(name: str, except_id: str | None = None) -> bool:
    return any(d.name == name and d.id != except_id for d in store().datasets.values())


def _duplicate() -> DifyHTTPError:
    return DifyHTTPError(
        409, "dataset_name_duplicate", "The dataset name already exists. Please modify your dataset name."
    )


def _check_fields(body: dict) -> None:
    if "name" in body and not 1 <= len(str(body["name"] or "")) <= 40:
        raise invalid_param("Name must be between 1 to 40 characters.")
    if len(str(body.get("description") or "")) > 400:
        raise invalid_param("Description cannot exceed 400 characters.")
    if body.get("indexing_technique") is not None and body["indexing_technique"] not in TECHNIQUES:
        raise invalid_param("Invalid indexing technique.")
    if body.get("permission") is not None and body["permission"] not in PERMISSIONS:
        raise invalid_param("Invalid permission.")


@bp.get("/datasets")
def list_datasets():
    page, limit, real_page, per_page = page_args()
    keyword = request.args.get("keyword")
    with store().lock:
        rows = sorted(store().datasets.values(), key=lambda d: d.created_at, reverse=True)
        if keyword:
            rows = [d for d in rows if keyword.lower() in d.name.lower()]
        chunk = rows[(real_page - 1) * per_page : real_page * per_page]
        data = [dataset_json(d, behaviour()) for d in chunk]
    return jsonify({"data": data, "has_more": len(data) == limit, "limit": limit, "total": len(rows), "page": page})


@bp.post("/datasets")
def create_dataset():
    body = json_body()
    check_body(
        behaviour(),
        DatasetCreatePayload,
        body,
        "name",
        restful=NAME_HELP,
        restx=f"{NAME_HELP} Missing required parameter in the JSON body or the post body or the query string",
    )
    _check_fields(body)
    with store().lock:
        if _name_taken(body["name"]):
            raise _duplicate()
        dataset = Dataset(
            id=new_id(),
            name=str(body["name"]),
            description=str(body.get("description") or ""),
            indexing_technique=body.get("indexing_technique"),
            permission=body.get("permission") or "only_me",
            embedding_model=body.get("embedding_model"),
            embedding_model_provider=body.get("embedding_model_provider"),
            retrieval_model=body.get("retrieval_model"),
            created_at=now(),
        )
        store().datasets[dataset.id] = dataset
        return jsonify(dataset_json(dataset, behaviour(), listed=False))


@bp.get("/datasets/<uuid:dataset_id>")
def get_dataset(dataset_id):
    with store().lock:
        return jsonify(dataset_json(dataset_or_404(dataset_id), behaviour()))


@bp.patch("/datasets/<uuid:dataset_id>")
def patch_dataset(dataset_id):
    """Only the fields sent change."""
    body = json_body()
    _check_fields(body)
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        if "name" in body and _name_taken(body["name"], except_id=dataset.id):
            raise _duplicate()
        for key in PATCHABLE:
            if key in body:
                setattr(dataset, key, body[key])
        dataset.updated_at = now()
        return jsonify(dataset_json(dataset, behaviour(), listed=False))


@bp.delete("/datasets/<uuid:dataset_id>")
def delete_dataset(dataset_id):
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        if dataset.app_count:
            raise DifyHTTPError(
                409,
                "dataset_in_use",
                "The dataset is being used by some apps. Please remove the dataset from the apps before deleting it.",
            )
        del store().datasets[dataset.id]
    return Response(status=204)
