"""The body of every error the server sends: ``{"detail": ...}``, or OpenAI's shape under ``/v1`` (the status of
each error of the library is in ``server.errors.STATUS``)."""

from __future__ import annotations

OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}


def error_body(path: str, status: int, message: str) -> dict:
    """The JSON body of an error response for a request to ``path``."""
    # A message may quote the request (an unknown doc_id); a lone surrogate in it must not become a 500.
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    if not path.startswith("/v1/"):
        return {"detail": message}
    kind = OPENAI_TYPES.get(status) or ("server_error" if status >= 500 else "invalid_request_error")
    code = "invalid_api_key" if status == 401 else "rate_limit_exceeded" if status == 429 else None
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
