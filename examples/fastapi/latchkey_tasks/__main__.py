"""python3 -m latchkey_tasks: serve on HOST:PORT (default 127.0.0.1:8000)."""

import os
import sys

import uvicorn

from . import config
from .app import create_app

if __name__ == "__main__":
    try:
        app = create_app()
    except config.ConfigError as e:
        print(f"latchkey_tasks: {e}", file=sys.stderr)
        sys.exit(2)
    # uvicorn's access log prints query strings, where a careless client may
    # put a token; the app logs each request's method, path and status instead.
    uvicorn.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8000")), access_log=False)
