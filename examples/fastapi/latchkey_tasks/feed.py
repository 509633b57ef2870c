"""Latchkey's revocation feed, consumed as Latchkey's Go
`verify.RemoteRevocations` consumes it: an OpenID Shared Signals stream of
CAEP session-revoked SETs, RFC 8936 poll delivery, with httpx.

One Feed per worker process (started by the app's lifespan): it reads
ISSUER/.well-known/ssf-configuration, creates its stream (Latchkey seeds it
with every revocation still retained), drains that backlog with
returnImmediately true until moreAvailable is false, then long-polls,
acknowledging what it took. Each SET is checked by sets.parse_set; a refused
one is reported in the next poll's setErrs and never applied (one whose kid
is unknown is first left unacknowledged, once, so that it comes again after
the JWKS was fetched anew); unknown event types are acknowledged and ignored.
On errors it retries from 100 ms to 5 s apart, logging once per outage, and
creates a new stream when Latchkey no longer knows its own (404). At
shutdown it deletes the stream.

Revocations is the deny set the token check consults (docs: ../README.md):
a revoked sid is 401 token_revoked; while the feed is not current (no poll
answer for 15 s, never synced, paused, or an entry lost at the cap) a token
older than 60 s is 401 token_expired (revocations_stale).
"""

import asyncio
import json
import logging
import time
from typing import Callable, Optional
from urllib.parse import quote

import httpx

from . import config
from .sets import EVENT_SESSION_REVOKED, EVENT_STREAM_UPDATED, EVENT_VERIFICATION, SET, SETError, parse_set
from .tokens import Claims, TokenError

DELIVERY_POLL = "urn:ietf:rfc:8936"
DEFAULT_RETAIN = 16 * 60.0  # verify.DefaultRevocationRetain
MAX_RETAIN = 7 * 24 * 3600.0  # a discovery document's retention above a week is ignored
MAX_STALE = 15.0  # current this long after the last poll answer
STALE_TOKEN_AGE = 60.0  # while not current, only younger tokens pass
MAX_ENTRIES = 1_000_000
MAX_EVENTS = 500
FIRST_SYNC = 5.0  # the lifespan waits this long for the backlog
TIMEOUT = 30.0  # one call; a long poll is held up to 10 s
RETRY_FIRST, RETRY_MAX = 0.1, 5.0
MAX_ANSWER_BYTES = 16 << 20
PRUNE_EVERY = 60.0


class Revocations:
    """Revoked sessions (sid → time) and users (sub → tokens issued at or
    before are revoked), each held until its time + retain, and whether the
    feed is current. Wall-clock times are Unix seconds; freshness uses the
    monotonic clock."""

    def __init__(self, retain: float = DEFAULT_RETAIN, max_stale: float = MAX_STALE,
                 stale_age: float = STALE_TOKEN_AGE, max_entries: int = MAX_ENTRIES,
                 now: Callable[[], float] = time.time, mono: Callable[[], float] = time.monotonic):
        self.retain, self.max_stale, self.stale_age, self.max_entries = retain, max_stale, stale_age, max_entries
        self.now, self.mono = now, mono
        self.sessions: dict = {}
        self.users: dict = {}
        self.last_sync: Optional[float] = None  # monotonic; None before the first answer and after mark_stale
        self.overflow_until = 0.0  # wall clock: not current before this (an entry was lost at the cap)
        self.last_prune = now()
        self.rejected = 0  # SETs refused
        self.dropped = 0

    def revoke_session(self, sid: str, at: float) -> bool:
        return self._add(self.sessions, sid, at)

    def revoke_user(self, sub: str, before: float) -> bool:
        return self._add(self.users, sub, before)

    def _add(self, m: dict, id_: str, at: float) -> bool:
        if not id_:
            return False
        now = self.now()
        if now >= at + self.retain:
            return True  # every token it concerns has expired
        if id_ in m:
            m[id_] = max(m[id_], at)
            return True
        if now - self.last_prune >= PRUNE_EVERY or len(self.sessions) + len(self.users) >= self.max_entries:
            self.prune()
        if len(self.sessions) + len(self.users) >= self.max_entries:
            self.dropped += 1
            self.overflow_until = max(self.overflow_until, at + self.retain)
            return False
        m[id_] = at
        return True

    def prune(self) -> None:
        now = self.now()
        for m in (self.sessions, self.users):
            for k in [k for k, at in m.items() if now >= at + self.retain]:
                del m[k]
        self.last_prune = now

    def mark_current(self) -> None:
        self.last_sync = self.mono()
        if self.now() - self.last_prune >= PRUNE_EVERY:
            self.prune()

    def mark_stale(self) -> None:
        self.last_sync = None

    def current(self) -> bool:
        return (self.last_sync is not None and self.mono() - self.last_sync <= self.max_stale
                and self.now() >= self.overflow_until)

    def check(self, c: Claims, leeway: float) -> None:
        """Raises TokenError for verified claims c: revoked, then stale."""
        if c.session_id in self.sessions:
            raise TokenError("token_revoked", "revoked")
        if c.subject in self.users and c.issued_at is not None and c.issued_at <= self.users[c.subject]:
            raise TokenError("token_revoked", "revoked")
        if c.issued_at is None or c.expires_at - c.issued_at + leeway > self.retain:
            raise TokenError("token_expired", "revocations_stale")  # could outlive its record
        if not self.current() and self.now() - c.issued_at > self.stale_age:
            raise TokenError("token_expired", "revocations_stale")


class FeedError(Exception):
    """A failed call; the message names the step and a status or an error
    type, never the secret or a token."""


class StreamGone(FeedError):
    pass


class Feed:
    def __init__(self, issuer: str, secret: str, jwks, log: logging.Logger, client: httpx.AsyncClient,
                 revocations: Optional[Revocations] = None):
        self.issuer = issuer
        self.discover_url = issuer.rstrip("/") + "/.well-known/ssf-configuration"
        self.secret, self.jwks, self.log, self.client = secret, jwks, log, client
        self.revocations = revocations
        self.meta: Optional[dict] = None
        self.stream: Optional[dict] = None  # id, aud, endpoint
        self.failing = False
        self.paused = False
        self.quick = True
        self.acks: list = []
        self.errs: dict = {}
        self.retried: set = set()
        self.synced = asyncio.Event()
        self.task: Optional[asyncio.Task] = None

    # --- start and stop ----------------------------------------------------

    async def start(self, first_sync: float = FIRST_SYNC) -> Revocations:
        """Discovers the feed, starts the loop and waits up to first_sync
        for the backlog."""
        retain = DEFAULT_RETAIN
        try:
            await asyncio.wait_for(self.discover(), first_sync)
            r = self.meta.get("latchkey_revocation_retention")
            if isinstance(r, int) and not isinstance(r, bool) and 0 < r <= MAX_RETAIN:
                retain = float(r)
        except (FeedError, httpx.HTTPError, ValueError, asyncio.TimeoutError) as e:
            self.fail(e)
        if self.revocations is None:
            self.revocations = Revocations(retain=retain)
        self.task = asyncio.create_task(self.loop())
        try:
            await asyncio.wait_for(self.synced.wait(), first_sync)
        except asyncio.TimeoutError:
            self.log.warning("revocation feed: no backlog within %.0f s; tokens older than %.0f s are refused until it comes",
                             first_sync, STALE_TOKEN_AGE)
        return self.revocations

    async def stop(self) -> None:
        """Ends the loop, deletes the stream, marks the set stale."""
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        if self.stream and self.meta:
            url = self.meta["configuration_endpoint"] + "?stream_id=" + quote(self.stream["id"], safe="")
            try:
                r = await self.client.delete(url, headers=self._auth(), timeout=5.0)
                if r.status_code // 100 != 2:
                    self.log.warning("revocation feed: deleting the stream: status %d", r.status_code)
            except httpx.HTTPError as e:
                self.log.warning("revocation feed: deleting the stream failed: %s", type(e).__name__)
        if self.revocations:
            self.revocations.mark_stale()

    # --- the loop ------------------------------------------------------------

    async def loop(self) -> None:
        wait = RETRY_FIRST
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 (every failure means: retry later)
                self.fail(e)
                # After an error the next poll returns at once, so the set is
                # current again as soon as Latchkey answers, not a hold later.
                self.quick = True
                if isinstance(e, StreamGone):
                    self.stream = None
                await asyncio.sleep(wait)
                wait = min(2 * wait, RETRY_MAX)
                continue
            if self.failing:
                self.failing = False
                self.log.warning("revocation feed: works again")
            wait = RETRY_FIRST

    def fail(self, e: Exception) -> None:
        """Logs e once per outage."""
        if not self.failing:
            self.failing = True
            msg = str(e) if isinstance(e, FeedError) else type(e).__name__
            self.log.warning("revocation feed %s: %s", self.issuer, msg)

    async def step(self) -> None:
        if self.meta is None:
            await self.discover()
        elif self.stream is None:
            await self.create_stream()
        else:
            await self.poll_once()

    # --- the calls -------------------------------------------------------------

    def _auth(self) -> dict:
        return {"Authorization": "Bearer " + self.secret}

    async def _call(self, what: str, method: str, url: str, auth: bool, body=None):
        headers = {"Accept": "application/json"}
        if auth:
            headers.update(self._auth())
        req = self.client.build_request(method, url, json=body, headers=headers, timeout=TIMEOUT)
        r = await self.client.send(req, stream=True)
        try:
            if r.status_code == 404 and what == "poll":
                raise StreamGone("revocation feed: the stream is gone")
            if r.status_code // 100 != 2:
                raise FeedError(f"{what}: status {r.status_code}")
            data = b""
            async for chunk in r.aiter_bytes():
                data += chunk
                if len(data) > MAX_ANSWER_BYTES:
                    raise FeedError(f"{what}: answer too large")
        finally:
            await r.aclose()
        try:
            out = json.loads(data)
        except ValueError:
            raise FeedError(f"{what}: answer is not JSON") from None
        if not isinstance(out, dict):
            raise FeedError(f"{what}: answer is not an object")
        return out

    async def discover(self) -> None:
        m = await self._call("discovery", "GET", self.discover_url, False)
        if m.get("issuer") != self.issuer:
            raise FeedError("the SSF configuration names another issuer")
        endpoint = m.get("configuration_endpoint")
        self._check_url("configuration_endpoint", endpoint)
        methods = m.get("delivery_methods_supported")
        if isinstance(methods, list) and methods and DELIVERY_POLL not in methods:
            raise FeedError("the transmitter offers no poll delivery")
        self.meta = m

    def _check_url(self, name: str, url) -> None:
        if not isinstance(url, str) or not url:
            raise FeedError(f"{name} is missing")
        try:
            config.check_url(name, url)  # https, or http to loopback
        except config.ConfigError as e:
            raise FeedError(str(e)) from None

    async def create_stream(self) -> None:
        body = {"delivery": {"method": DELIVERY_POLL},
                "events_requested": [EVENT_SESSION_REVOKED, EVENT_STREAM_UPDATED, EVENT_VERIFICATION]}
        st = await self._call("stream creation", "POST", self.meta["configuration_endpoint"], True, body)
        aud = st.get("aud")
        if isinstance(aud, list):
            aud = aud[0] if aud else None
        delivery = st.get("delivery") if isinstance(st.get("delivery"), dict) else {}
        if not isinstance(st.get("stream_id"), str) or not st["stream_id"] or not isinstance(aud, str) or not aud:
            raise FeedError("the stream has no stream_id or aud")
        if st.get("iss") not in (None, "", self.issuer):
            raise FeedError("the stream names another issuer")
        if delivery.get("method") != DELIVERY_POLL:
            raise FeedError("the stream is not poll delivery")
        self._check_url("endpoint_url", delivery.get("endpoint_url"))
        self.stream = {"id": st["stream_id"], "aud": aud, "endpoint": delivery["endpoint_url"]}
        self.quick, self.paused, self.acks, self.errs = True, False, [], {}

    async def poll_once(self) -> None:
        body = {"ack": self.acks, "maxEvents": MAX_EVENTS, "returnImmediately": self.quick}
        if self.errs:
            body["setErrs"] = self.errs
        out = await self._call("poll", "POST", self.stream["endpoint"], True, body)
        self.acks, self.errs = [], {}  # delivered with this poll
        sets = out.get("sets", {})
        if not isinstance(sets, dict):
            raise FeedError("poll: sets is not an object")
        for jti, raw in sets.items():
            await self.take(jti, raw)
        more = out.get("moreAvailable") is True
        self.quick = more
        if not more and not self.paused:
            self.revocations.mark_current()
            self.synced.set()

    async def take(self, jti: str, raw) -> None:
        """Checks one SET, then applies and acknowledges, reports, or leaves it."""
        try:
            if not isinstance(raw, str):
                raise SETError("invalid_request", "malformed")
            s = await parse_set(raw, self.jwks, self.issuer, self.stream["aud"], time.time())
            if s.jti != jti:
                raise SETError("invalid_request", "malformed")
        except SETError as e:
            if e.retry and jti not in self.retried:
                if len(self.retried) >= MAX_EVENTS * 4:
                    self.retried.clear()
                self.retried.add(jti)  # neither acknowledged nor reported: it comes again
                return
            self.retried.discard(jti)
            self.errs[jti] = {"err": e.code, "description": e.description}
            self.revocations.rejected += 1
            self.log.warning("revocation feed: a SET was refused: %s (%s)", e.code, e.reason)
            return
        self.retried.discard(jti)
        self.apply(s)
        self.acks.append(jti)

    def apply(self, s: SET) -> None:
        r = self.revocations
        if s.kind == "session-revoked":
            if s.session_id:
                ok = r.revoke_session(s.session_id, max(s.event_time, s.issued_at))
            else:
                ok = r.revoke_user(s.user_id, s.event_time)
            if not ok:
                self.log.warning("revocation feed: the revocation set is full; stale until room comes")
        elif s.kind == "stream-updated":
            self.paused = s.stream_status != "enabled"
            if self.paused:
                r.mark_stale()
