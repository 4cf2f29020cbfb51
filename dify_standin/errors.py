"""Dify's error envelope `{code, message, status}` and the non-JSON pages that sit in front of Dify.

Dify's handler turns its own errors into `{code, message, status}` (0.x left out `status`), every `ValueError`
into 400 `invalid_param`, and werkzeug errors on its routes into the snake-cased class name
(`method_not_allowed`). Two answers are not JSON: a path no route matches (a non-UUID id) gets Flask's HTML 404,
and a body over nginx's `client_max_body_size` gets nginx's HTML 413.
"""

from __future__ import annotations

import json

from flask import Response, current_app, has_app_context

NGINX_413 = (
    "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    "<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class DifyHTTPError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.headers)


class PlainAnswer(Exception):
    """An error answer that is not Dify's envelope (flask-restx's reqparse `{"errors", "message"}` 400s)."""

    def __init__(self, body: dict, status: int):
        super().__init__(str(body))
        self.body = body
        self.status = status

    def response(self) -> Response:
        return Response(json.dumps(self.body, ensure_ascii=False), status=self.status, mimetype="application/json")


class DifyCrash(Exception):
    """Where real Dify crashes (an exception its handler does not know): answered as its 500, not logged as a
    stand-in bug."""


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, object] = {"code": code, "message": message, "status": status}
    if has_app_context() and not current_app.config["BEHAVIOUR"].envelope_status:
        del body["status"]
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def internal_server_error() -> Response:
    """Dify's answer to an exception it did not expect (a crash): `{"message": "Internal Server Error", "code":
    "unknown"}`, plus `status` under flask-restx (recorded: no `status` on 1.7.2, `status: 500` from 1.9.1)."""
    body: dict[str, object] = {"message": "Internal Server Error", "code": "unknown"}
    if not has_app_context() or current_app.config["BEHAVIOUR"].restx:
        body["status"] = 500
    return Response(json.dumps(body), status=500, mimetype="application/json")


def snake_case(name: str) -> str:
    """werkzeug's `MethodNotAllowed` -> `method_not_allowed`, as Dify's handler names werkzeug errors."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def nginx_413() -> Response:
    return Response(NGINX_413, status=413, mimetype="text/html", headers={"Connection": "close"})


def invalid_param(message: str) -> DifyHTTPError:
    """Dify turns every ValueError (validation and service errors) into 400 invalid_param."""
    return DifyHTTPError(400, "invalid_param", message)


class NotFound(DifyHTTPError):
    """werkzeug's NotFound raised inside a route: under flask-restx (>= 1.8.0) its message gains the "did you
    mean" help (`app.py` adds it), Dify's own 404 errors (`app_not_found`) do not."""

    def __init__(self, message: str):
        super().__init__(404, "not_found", message)


def not_found(message: str) -> DifyHTTPError:
    return NotFound(message)


def forbidden(message: str) -> DifyHTTPError:
    return DifyHTTPError(403, "forbidden", message)
