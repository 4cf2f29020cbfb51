"""Dify's error envelope `{code, message, status}` and the errors the stand-in raises."""

from __future__ import annotations

from flask import Response, jsonify


class DifyHTTPError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        resp = jsonify({"code": self.code, "message": self.message, "status": self.status})
        resp.status_code = self.status
        resp.headers.update(self.headers)
        return resp


def invalid_param(message: str) -> DifyHTTPError:
    """Dify turns every ValueError (validation and service errors) into 400 invalid_param."""
    return DifyHTTPError(400, "invalid_param", message)


def not_found(message: str) -> DifyHTTPError:
    return DifyHTTPError(404, "not_found", message)
