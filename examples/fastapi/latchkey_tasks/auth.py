"""The FastAPI dependencies that guard the task routes."""

from fastapi import Request

from .problems import Problem, unauthorized
from .tokens import Claims, TokenError, bearer_token


async def access_claims(request: Request) -> Claims:
    """The verified claims of the request's bearer token, or a 401."""
    verifier = request.app.state.verifier
    try:
        token = bearer_token(request.headers.getlist("authorization"), request.url.query)
        return await verifier.verify(token)
    except TokenError as e:
        # The reason is a closed set of words, safe to log; the token never is.
        request.app.state.log.info("token refused: %s (%s) %s %s", e.code, e.reason, request.method, request.url.path)
        raise unauthorized(e.code, e.description) from None


def require_owner(user_id: str, claims: Claims) -> None:
    """A user reaches only their own tasks, admins included (403 otherwise)."""
    if claims.subject != user_id:
        raise Problem(403, "forbidden", "not allowed for this user")
