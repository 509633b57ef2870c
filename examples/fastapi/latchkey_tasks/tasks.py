"""The seeds' task routes, with the shapes of Latchkey's own (docs/api.md,
"Task routes"). Storage is in memory: one process, lost at exit. That keeps
the example about tokens; a real service puts a database here.
"""

import hashlib
import hmac
import itertools
import json
import secrets
import threading
import unicodedata
import uuid
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Request, Response

from .auth import access_claims, require_owner
from .problems import Problem
from .tokens import Claims

MAX_BODY = 1 << 20
TITLE_MAX, DESCRIPTION_MAX = 200, 2000
FIELDS = ("title", "description", "completed")

router = APIRouter()


class Store:
    """Tasks by user, in memory. The routes are async and run on one event
    loop; the lock keeps the store safe should a route ever run in a thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tasks: dict = {}  # user_id -> {task_id: task}
        self.seq = itertools.count(1)  # creation order, for newest-first lists
        self.cursor_key = secrets.token_bytes(32)

    def sign(self, seq: int) -> str:
        mac = hmac.new(self.cursor_key, str(seq).encode(), hashlib.sha256).hexdigest()[:32]
        return f"{seq}.{mac}"

    def unsign(self, cursor: str) -> int:
        seq, _, _ = cursor.partition(".")
        if not seq.isdigit() or not hmac.compare_digest(self.sign(int(seq)), cursor):
            raise Problem(400, "invalid_request", "bad cursor")
        return int(seq)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def public(task: dict) -> dict:
    return {k: v for k, v in task.items() if k != "_seq"}


# --- request bodies --------------------------------------------------------


def _no_duplicates(pairs):
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise ValueError("a name twice in one object")
    return dict(pairs)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


async def body_object(request: Request) -> dict:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Problem(413, "invalid_request", "body over 1 MiB")
    try:
        body = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "invalid_request", "malformed JSON") from None
    if not isinstance(body, dict):
        raise Problem(400, "invalid_request", "the body must be a JSON object")
    for k, v in body.items():
        if k not in FIELDS:
            raise Problem(400, "invalid_request", f"unknown field {k!r}")
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:  # an escaped lone surrogate
                raise Problem(400, "invalid_request", "malformed JSON") from None
    return body


def _bad_char(c: str) -> bool:
    # Control characters, bidirectional controls and invisible formatting
    # characters (Cc, Cf), and the Unicode line and paragraph separators.
    return unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")


def check_fields(body: dict, required: tuple) -> dict:
    """The fields' rules; every broken one is listed in one 400."""
    errors, out = [], {}
    for f in FIELDS:
        v = body.get(f)
        if v is None:  # null counts as missing
            if f in required:
                errors.append({"field": f, "message": "is required"})
            continue
        if f == "completed":
            if not isinstance(v, bool):
                raise Problem(400, "invalid_request", "completed must be a boolean")
            out[f] = v
            continue
        if not isinstance(v, str):
            raise Problem(400, "invalid_request", f"{f} must be a string")
        if f == "title":
            v = v.strip()
            if not 1 <= len(v) <= TITLE_MAX:
                errors.append({"field": f, "message": f"must be 1 to {TITLE_MAX} characters"})
            elif any(_bad_char(c) for c in v):
                errors.append({"field": f, "message": "must be one line of plain text"})
        else:
            plain = v.replace("\r\n", "").replace("\n", "").replace("\t", "")
            if len(v) > DESCRIPTION_MAX:
                errors.append({"field": f, "message": f"must be at most {DESCRIPTION_MAX} characters"})
            elif any(_bad_char(c) for c in plain):
                errors.append({"field": f, "message": "must be plain text"})
        out[f] = v
    if errors:
        raise Problem(400, "validation_failed", "validation failed", errors=errors)
    return out


# --- routes ----------------------------------------------------------------


def owned(request: Request, user_id: str, claims: Claims) -> dict:
    require_owner(user_id, claims)
    store: Store = request.app.state.store
    return store.tasks.setdefault(user_id, {})


def one(tasks: dict, task_id: str) -> dict:
    task = tasks.get(task_id)
    if task is None:  # never reveals another user's task: they are not here
        raise Problem(404, "not_found", "no such task")
    return task


@router.get("/api/{user_id}/tasks")
async def list_tasks(user_id: str, request: Request, claims: Claims = Depends(access_claims)):
    tasks = owned(request, user_id, claims)
    q = request.query_params
    status, limit = q.get("status", "all"), q.get("limit", "50")
    errors = []
    if status not in ("all", "pending", "completed"):
        errors.append({"field": "status", "message": "must be all, pending or completed"})
    if not limit.isdigit() or not 1 <= int(limit) <= 200:
        errors.append({"field": "limit", "message": "must be 1 to 200"})
    if errors:
        raise Problem(400, "validation_failed", "validation failed", errors=errors)
    store: Store = request.app.state.store
    after = store.unsign(q["cursor"]) if q.get("cursor") else None
    with store.lock:
        rows = sorted(tasks.values(), key=lambda t: t["_seq"], reverse=True)
    rows = [t for t in rows if (after is None or t["_seq"] < after) and (status == "all" or t["completed"] == (status == "completed"))]
    page = rows[: int(limit)]
    more = len(rows) > len(page)
    return {"tasks": [public(t) for t in page], "next_cursor": store.sign(page[-1]["_seq"]) if more else None}


@router.post("/api/{user_id}/tasks", status_code=201)
async def create_task(user_id: str, request: Request, response: Response, claims: Claims = Depends(access_claims)):
    tasks = owned(request, user_id, claims)
    body = await body_object(request)
    if "completed" in body:
        raise Problem(400, "invalid_request", "unknown field 'completed'")
    f = check_fields(body, required=("title",))
    store: Store = request.app.state.store
    t = now()
    task = {"id": str(uuid.uuid4()), "user_id": user_id, "title": f["title"], "description": f.get("description", ""),
            "completed": False, "created_at": t, "updated_at": t, "_seq": next(store.seq)}
    with store.lock:
        tasks[task["id"]] = task
    response.headers["Location"] = f"/api/{user_id}/tasks/{task['id']}"
    return public(task)


@router.get("/api/{user_id}/tasks/{task_id}")
async def get_task(user_id: str, task_id: str, request: Request, claims: Claims = Depends(access_claims)):
    return public(one(owned(request, user_id, claims), task_id))


async def _update(request: Request, user_id: str, task_id: str, claims: Claims, required: tuple) -> dict:
    tasks = owned(request, user_id, claims)
    task = one(tasks, task_id)
    f = check_fields(await body_object(request), required=required)
    with request.app.state.store.lock:
        task.update(f)
        task["updated_at"] = now()
    return public(task)


@router.put("/api/{user_id}/tasks/{task_id}")
async def replace_task(user_id: str, task_id: str, request: Request, claims: Claims = Depends(access_claims)):
    return await _update(request, user_id, task_id, claims, required=FIELDS)


@router.patch("/api/{user_id}/tasks/{task_id}")
async def patch_task(user_id: str, task_id: str, request: Request, claims: Claims = Depends(access_claims)):
    return await _update(request, user_id, task_id, claims, required=())


@router.patch("/api/{user_id}/tasks/{task_id}/complete")
async def toggle_task(user_id: str, task_id: str, request: Request, claims: Claims = Depends(access_claims)):
    task = one(owned(request, user_id, claims), task_id)
    with request.app.state.store.lock:
        task["completed"] = not task["completed"]
        task["updated_at"] = now()
    return public(task)


@router.delete("/api/{user_id}/tasks/{task_id}", status_code=204)
async def delete_task(user_id: str, task_id: str, request: Request, claims: Claims = Depends(access_claims)):
    tasks = owned(request, user_id, claims)
    with request.app.state.store.lock:
        one(tasks, task_id)
        del tasks[task_id]
    return Response(status_code=204)
