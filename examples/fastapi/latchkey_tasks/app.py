"""The application: create_app() reads the settings, wires the verifier and
the routes, and answers every error as Latchkey does."""

import contextlib
import logging
import os

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import config, problems
from .feed import Feed
from .problems import Problem
from .tasks import Store, router
from .tokens import JWKS, Verifier


def create_app(env=os.environ) -> FastAPI:
    settings = config.from_env(env)  # ConfigError stops the start, naming the setting
    app = FastAPI(title="Latchkey tasks example", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.log = logging.getLogger("uvicorn.error")  # configured by uvicorn
    # follow_redirects=False (httpx's default) keeps the https/loopback rule.
    client = httpx.AsyncClient(follow_redirects=False)
    app.state.verifier = Verifier(settings.issuer, settings.audience, JWKS(settings.jwks_url, client, app.state.log))
    app.state.store = Store()
    app.include_router(router)

    # Latchkey's revocation feed, one stream per worker process (feed.py),
    # when a receiver secret is set. The lifespan waits up to 5 s for the
    # seeded backlog before the service answers, and deletes the stream at
    # shutdown. Starlette's lifespan replaces on_event handlers, so the
    # client is closed here too.
    @contextlib.asynccontextmanager
    async def lifespan(_app):
        fd = None
        if settings.receiver_secret:
            # Its own client: a held long poll must not wait behind, or hold
            # up, the JWKS fetches.
            feed_client = httpx.AsyncClient(follow_redirects=False)
            fd = Feed(settings.issuer, settings.receiver_secret, app.state.verifier.jwks, app.state.log, feed_client)
            app.state.verifier.revocations = await fd.start()
        else:
            app.state.log.warning("LATCHKEY_RECEIVER_SECRET is not set: no revocation feed; a revoked token is "
                                  "accepted here until it expires")
        try:
            yield
        finally:
            if fd is not None:
                await fd.stop()
                await feed_client.aclose()
            await client.aclose()

    app.router.lifespan_context = lifespan

    @app.middleware("http")
    async def access_log(request: Request, call_next):
        # Method, path and status only: never the query string or headers.
        response = await call_next(request)
        app.state.log.info("%s %s %d", request.method, request.url.path, response.status_code)
        return response

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.exception_handler(Problem)
    async def on_problem(request: Request, p: Problem):
        return problems.response(p)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, e: StarletteHTTPException):
        # Unknown paths, and methods a path does not have: 404 (no 405).
        if e.status_code in (404, 405):
            return problems.response(Problem(404, "not_found", "no such resource"))
        return problems.response(Problem(e.status_code, "invalid_request", "request refused"))

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, e: RequestValidationError):
        return problems.response(Problem(400, "invalid_request", "malformed request"))

    return app
