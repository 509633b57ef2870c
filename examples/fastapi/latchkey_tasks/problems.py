"""Latchkey's error answers: application/problem+json (RFC 9457) with a
stable `code`, Cache-Control: no-store, and on a 401 the WWW-Authenticate
challenge of RFC 6750 §3."""

import re
from http import HTTPStatus
from typing import Optional

from fastapi.responses import JSONResponse

REALM = "latchkey"


class Problem(Exception):
    """An error answer; raise it anywhere in a route or a dependency."""

    def __init__(self, status: int, code: str, detail: str, errors: Optional[list] = None, headers: Optional[dict] = None):
        super().__init__(f"{status} {code}")
        self.status, self.code, self.detail = status, code, detail
        self.errors, self.headers = errors, headers or {}


def challenge(code: str, description: str) -> str:
    """`Bearer realm="latchkey"` when no token came; with error and
    error_description when one came and failed."""
    c = f'Bearer realm="{REALM}"'
    if code in ("invalid_token", "token_expired", "token_revoked"):
        safe = re.sub(r'[^\x20\x21\x23-\x5b\x5d-\x7e]', "", description)
        c += f', error="invalid_token", error_description="{safe}"'
    return c


def unauthorized(code: str, description: str) -> Problem:
    return Problem(401, code, description, headers={"WWW-Authenticate": challenge(code, description)})


def response(p: Problem) -> JSONResponse:
    body = {"type": "about:blank", "title": HTTPStatus(p.status).phrase, "status": p.status, "code": p.code, "detail": p.detail}
    if p.errors is not None:
        body["errors"] = p.errors
    headers = {"Cache-Control": "no-store", **p.headers}
    return JSONResponse(body, status_code=p.status, headers=headers, media_type="application/problem+json")
