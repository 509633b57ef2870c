"""Unit tests of the revocation feed: every refusal of the SET checks (each
beside the valid SET it is made from), the deny set's stale rule on fake
clocks, and one feed's calls against a fake transmitter (httpx's
MockTransport): drain, acks, setErrs, a bad SET never applied, an unknown
kid given one more chance, unknown events acknowledged and ignored, the
stream deleted at stop. Run: /usr/bin/python3 -m unittest discover -s tests
-t . (from examples/fastapi); cmd/latchkey's TestFastAPIExampleUnit does."""

import asyncio
import base64
import json
import logging
import time
import unittest

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from latchkey_tasks import feed as feedmod
from latchkey_tasks.feed import Feed, Revocations
from latchkey_tasks.sets import EVENT_SESSION_REVOKED, EVENT_VERIFICATION, SETError, parse_set
from latchkey_tasks.tokens import Claims, TokenError, invalid

ISS = "http://127.0.0.1:9"
AUD = "https://tasks.example"
KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()


class Keys:
    """A tokens.JWKS stand-in: kid "k1" is KEY; down makes every lookup fail."""

    def __init__(self):
        self.down = False
        self.asked = []

    async def key(self, kid):
        self.asked.append(kid)
        if self.down:
            raise invalid("key_unavailable")
        if kid == "k1":
            return KEY.public_key()
        raise invalid("unknown_kid")


def claims(sid="s1", **over):
    now = int(time.time())
    c = {
        "iss": ISS, "aud": AUD, "iat": now, "jti": "sr-" + sid,
        "sub_id": {"format": "complex", "session": {"format": "opaque", "id": sid},
                   "user": {"format": "iss_sub", "iss": ISS, "sub": "u1"}},
        "events": {EVENT_SESSION_REVOKED: {"event_timestamp": now, "initiating_entity": "user",
                                           "reason_admin": {"en": "signout"}}},
    }
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def sign(c, key=KEY, alg="EdDSA", **hdr):
    h = {"typ": "secevent+jwt", "kid": "k1"}
    h.update(hdr)
    h = {k: v for k, v in h.items() if v is not None}
    return jwt.encode(c, key, algorithm=alg, headers=h)


def b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def raw_sign(header, c, key=KEY):
    """A compact JWS signed by hand, for headers PyJWT will not write."""
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(c).encode())
    return signing_input + "." + b64(key.sign(signing_input.encode()))


class SETTest(unittest.IsolatedAsyncioTestCase):
    async def parse(self, raw, keys=None):
        return await parse_set(raw, keys or Keys(), ISS, AUD, time.time())

    async def refused(self, raw, code, reason, keys=None):
        with self.assertRaises(SETError, msg=reason) as e:
            await self.parse(raw, keys)
        self.assertEqual((e.exception.code, e.exception.reason), (code, reason))
        return e.exception

    async def test_valid(self):
        s = await self.parse(sign(claims()))
        self.assertEqual((s.kind, s.session_id, s.user_id, s.jti), ("session-revoked", "s1", "u1", "sr-s1"))
        s = await self.parse(sign(claims(aud=["other", AUD]), typ="application/SecEvent+JWT"))
        self.assertEqual(s.session_id, "s1")
        # User-scoped, with its bound.
        s = await self.parse(sign(claims(sub_id={"format": "complex", "user": {"format": "iss_sub", "iss": ISS, "sub": "u1"}})))
        self.assertEqual((s.session_id, s.user_id), ("", "u1"))
        # Unknown event types and verification: valid, not revocations.
        s = await self.parse(sign(claims(events={"https://example.com/other": {}})))
        self.assertEqual(s.kind, "unknown")
        s = await self.parse(sign(claims(events={EVENT_VERIFICATION: {"state": "x"}}, sub_id=None)))
        self.assertEqual((s.kind, s.state), ("verification", "x"))

    async def test_form_and_header(self):
        good = sign(claims())
        await self.refused(good + "A" * 8192, "invalid_request", "oversized")
        await self.refused("a.b", "invalid_request", "malformed")
        await self.refused("", "invalid_request", "malformed")
        h, p, s = good.split(".")
        await self.refused(f"{h}.{p}=.{s}", "invalid_request", "malformed")
        await self.refused(sign(claims(), key=b"k" * 32, alg="HS256"), "invalid_key", "bad_alg")
        await self.refused(jwt.encode(claims(), None, algorithm="none", headers={"typ": "secevent+jwt", "kid": "k1"}),
                           "invalid_key", "bad_alg")
        await self.refused(sign(claims(), crit=["exp"]), "invalid_request", "crit")
        await self.refused(sign(claims(), typ="at+jwt"), "invalid_request", "bad_typ")
        await self.refused(sign(claims(), typ=None), "invalid_request", "bad_typ")
        await self.refused(raw_sign({"alg": "EdDSA", "typ": "secevent+jwt", "kid": 7}, claims()), "invalid_request", "malformed")
        await self.parse(raw_sign({"alg": "EdDSA", "typ": "secevent+jwt", "kid": "k1"}, claims()))

    async def test_keys(self):
        e = await self.refused(sign(claims(), kid="rotated"), "invalid_key", "unknown_kid")
        self.assertTrue(e.retry, "an unknown kid may be a rotation: one more chance")
        e = await self.refused(sign(claims(), kid=None), "invalid_key", "unknown_kid")
        self.assertFalse(e.retry, "no kid: fetching again cannot help")
        down = Keys()
        down.down = True
        e = await self.refused(sign(claims()), "invalid_key", "key_unavailable", keys=down)
        self.assertTrue(e.retry)
        await self.refused(sign(claims(), key=OTHER), "invalid_key", "bad_signature")
        h, p, s = sign(claims()).split(".")
        _, p2, _ = sign(claims("s2")).split(".")
        await self.refused(f"{h}.{p2}.{s}", "invalid_key", "bad_signature")

    async def test_claims(self):
        now = int(time.time())
        for c, code, reason in [
            (claims(iss="http://127.0.0.1:10"), "invalid_issuer", "bad_issuer"),
            (claims(iss=None), "invalid_issuer", "bad_issuer"),
            (claims(aud="tasks-example"), "invalid_audience", "bad_audience"),
            (claims(aud=None), "invalid_audience", "bad_audience"),
            (claims(aud=["a", 1]), "invalid_audience", "bad_audience"),
            (claims(iat=None), "invalid_request", "missing_iat"),
            (claims(iat="1"), "invalid_request", "malformed"),
            (claims(iat=now + 60), "invalid_request", "not_yet_valid"),
            (claims(jti=None), "invalid_request", "missing_jti"),
            (claims(jti=1), "invalid_request", "malformed"),
            (claims(exp=now + 900), "invalid_request", "exp_present"),
            (claims(sub="u1"), "invalid_request", "sub_present"),
            (claims(events=None), "invalid_request", "event_count"),
            (claims(events={}), "invalid_request", "event_count"),
            (claims(events={EVENT_SESSION_REVOKED: {}, EVENT_VERIFICATION: {}}), "invalid_request", "event_count"),
            (claims(events={EVENT_SESSION_REVOKED: "x"}), "invalid_request", "bad_event"),
            (claims(events={EVENT_SESSION_REVOKED: {"event_timestamp": "x"}}), "invalid_request", "bad_event"),
            (claims(sub_id=None), "invalid_request", "bad_subject"),
            (claims(sub_id={"format": "opaque", "id": "s1"}), "invalid_request", "bad_subject"),
            (claims(sub_id={"format": "complex", "session": {"format": "email", "id": "s1"}}), "invalid_request", "bad_subject"),
            (claims(sub_id={"format": "complex", "session": {"format": "opaque", "id": ""}}), "invalid_request", "bad_subject"),
            (claims(sub_id={"format": "complex", "user": {"format": "iss_sub", "iss": "http://evil", "sub": "u1"}}),
             "invalid_request", "bad_subject"),
            (claims(sub_id={"format": "complex", "user": {"format": "iss_sub", "iss": ISS, "sub": "u1"}},
                    events={EVENT_SESSION_REVOKED: {}}), "invalid_request", "bad_event"),
            (claims(events={EVENT_VERIFICATION: {"state": 1}}), "invalid_request", "bad_event"),
        ]:
            await self.refused(sign(c), code, reason)
        # iat inside the 30 s leeway passes.
        await self.parse(sign(claims(iat=now + 20)))

    async def test_an_access_token_is_not_a_set(self):
        now = int(time.time())
        at = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 900, "sub": "u1", "sid": "s1", "jti": "j"}
        await self.refused(sign(at, typ="at+jwt"), "invalid_request", "bad_typ")
        await self.refused(sign(at), "invalid_request", "exp_present")


class Clock:
    def __init__(self):
        self.t = 1_000_000.0

    def __call__(self):
        return self.t


def token(sid="s1", sub="u1", iat=None, ttl=900.0, now=1_000_000.0):
    iat = now if iat is None else iat
    return Claims(sub, sid, "user", "j", iat, iat + ttl, (), {})


class RevocationsTest(unittest.TestCase):
    def make(self, **kw):
        clock = Clock()
        return Revocations(retain=930, now=clock, mono=clock, **kw), clock

    def code(self, r, c):
        try:
            r.check(c, 30)
        except TokenError as e:
            return f"{e.code}/{e.reason}"
        return "ok"

    def test_revoked_and_stale(self):
        r, clock = self.make()
        young, old = token("s2"), token("s3", iat=clock.t - 61)
        self.assertEqual(self.code(r, young), "ok", "not synced: a young token passes")
        self.assertEqual(self.code(r, old), "token_expired/revocations_stale", "not synced: an old one does not")
        r.mark_current()
        self.assertEqual(self.code(r, old), "ok")
        self.assertTrue(r.revoke_session("s1", clock.t))
        self.assertEqual(self.code(r, token("s1")), "token_revoked/revoked")
        clock.t += 15
        self.assertEqual(self.code(r, old), "ok", "15 s after the last answer: still current")
        clock.t += 0.5
        self.assertEqual(self.code(r, old), "token_expired/revocations_stale")
        self.assertEqual(self.code(r, token("s1")), "token_revoked/revoked", "revoked comes first")
        r.mark_current()
        r.mark_stale()
        self.assertEqual(self.code(r, old), "token_expired/revocations_stale", "paused or stopped")

    def test_users_retention_outlives(self):
        r, clock = self.make()
        r.mark_current()
        r.revoke_user("u1", clock.t)
        self.assertEqual(self.code(r, token("x", "u1")), "token_revoked/revoked", "issued at the bound")
        self.assertEqual(self.code(r, token("x", "u1", iat=clock.t + 1)), "ok", "issued after it")
        self.assertTrue(r.revoke_session("s1", clock.t - 931))
        self.assertNotIn("s1", r.sessions, "past its retention: nothing to hold")
        r.revoke_session("s4", clock.t)
        clock.t += 931
        r.prune()
        self.assertNotIn("s4", r.sessions)
        r.mark_current()
        self.assertEqual(self.code(r, token("s5", iat=clock.t, ttl=901)), "token_expired/revocations_stale",
                         "a token that could outlive its revocation record")
        no_iat = Claims("u", "s5", "", "j", None, clock.t + 60, (), {})
        self.assertEqual(self.code(r, no_iat), "token_expired/revocations_stale")

    def test_cap_turns_into_stale(self):
        r, clock = self.make(max_entries=2)
        r.mark_current()
        self.assertTrue(r.revoke_session("a", clock.t))
        self.assertTrue(r.revoke_session("b", clock.t))
        self.assertFalse(r.revoke_session("c", clock.t))
        self.assertFalse(r.current(), "a lost entry makes the set stale until its retention ends")
        clock.t += 931
        r.mark_current()
        self.assertTrue(r.current())


class Transmitter:
    """A fake SSF transmitter: records requests, answers polls from a queue."""

    def __init__(self, answers):
        self.answers, self.requests = list(answers), []

    async def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, str(request.url), body, request.headers.get("authorization")))
        path = request.url.path
        if path == "/.well-known/ssf-configuration":
            return httpx.Response(200, json={"issuer": ISS, "configuration_endpoint": ISS + "/ssf/streams",
                                             "delivery_methods_supported": [feedmod.DELIVERY_POLL],
                                             "latchkey_revocation_retention": 930})
        if path == "/ssf/streams" and request.method == "POST":
            return httpx.Response(201, json={"stream_id": "st1", "iss": ISS, "aud": AUD,
                                             "delivery": {"method": feedmod.DELIVERY_POLL, "endpoint_url": ISS + "/ssf/poll/st1"}})
        if path == "/ssf/streams" and request.method == "DELETE":
            return httpx.Response(204)
        if path == "/ssf/poll/st1":
            if not self.answers and not body.get("returnImmediately"):
                await asyncio.sleep(0.05)  # a long poll is held
            return httpx.Response(200, json=self.answers.pop(0) if self.answers else {"sets": {}})
        return httpx.Response(404)

    def polls(self):
        return [b for m, u, b, _ in self.requests if u.endswith("/ssf/poll/st1")]


class FeedTest(unittest.IsolatedAsyncioTestCase):
    async def test_drain_ack_report_apply(self):
        good, other = claims("good"), claims("other", events={"https://example.com/other": {}})
        bad = claims("bad", exp=int(time.time()) + 60)
        answers = [
            {"sets": {"sr-good": sign(good), "sr-bad": sign(bad), "sr-other": sign(other),
                      "sr-rot": sign(claims("rot"), kid="rotated"), "sr-wrongjti": sign(claims("x"))},
             "moreAvailable": True},
            {"sets": {"sr-rot": sign(claims("rot"), kid="rotated")}, "moreAvailable": False},
            {"sets": {}},
        ]
        tx = Transmitter(answers)
        client = httpx.AsyncClient(transport=httpx.MockTransport(tx.handler))
        f = Feed(ISS, "secret-1", Keys(), logging.getLogger("test"), client)
        with self.assertLogs("test", "WARNING") as logs:
            r = await f.start(first_sync=2)
            await asyncio.sleep(0.2)  # a long poll or two
            await f.stop()
        self.assertEqual(r.retain, 930, "retention from the discovery document")
        polls = tx.polls()
        self.assertGreaterEqual(len(polls), 3)
        self.assertTrue(polls[0]["returnImmediately"] and polls[1]["returnImmediately"], "drained at once")
        self.assertFalse(polls[2]["returnImmediately"], "then long polls")
        self.assertEqual(polls[0]["ack"], [])
        self.assertEqual(sorted(polls[1]["ack"]), ["sr-good", "sr-other"], "applied and unknown events acked")
        self.assertEqual(set(polls[1]["setErrs"]), {"sr-bad", "sr-wrongjti"}, "bad SETs reported")
        self.assertEqual(polls[1]["setErrs"]["sr-bad"], {"err": "invalid_request", "description": "SET must not have exp"})
        self.assertNotIn("sr-rot", polls[1]["ack"] + list(polls[1]["setErrs"]), "unknown kid: left once")
        self.assertEqual(polls[2]["setErrs"]["sr-rot"]["err"], "invalid_key", "then reported")
        self.assertEqual(set(r.sessions), {"good"}, "only the good SET is applied")
        self.assertEqual(r.rejected, 3)
        self.assertFalse(r.current(), "stale after stop")
        self.assertTrue(all(a == "Bearer secret-1" for m, u, b, a in tx.requests if "ssf/" in u and "well-known" not in u))
        self.assertIsNone(tx.requests[0][3], "discovery is public: no secret sent")
        self.assertEqual(tx.requests[-1][:2], ("DELETE", ISS + "/ssf/streams?stream_id=st1"), "stream deleted at stop")
        self.assertFalse(any("secret-1" in line for line in logs.output))

    async def test_refuses_another_issuer_and_plain_http(self):
        for meta in ({"issuer": "http://127.0.0.1:10", "configuration_endpoint": ISS + "/ssf/streams"},
                     {"issuer": ISS, "configuration_endpoint": "http://example.com/ssf/streams"}):
            client = httpx.AsyncClient(transport=httpx.MockTransport(lambda req: httpx.Response(200, json=meta)))
            f = Feed(ISS, "s", Keys(), logging.getLogger("test"), client)
            with self.assertRaises(feedmod.FeedError):
                await f.discover()

    async def test_stream_gone_makes_a_new_one(self):
        tx = Transmitter([])
        client = httpx.AsyncClient(transport=httpx.MockTransport(tx.handler))
        f = Feed(ISS, "s", Keys(), logging.getLogger("test"), client, Revocations())
        await f.discover()
        await f.create_stream()
        f.stream["endpoint"] = ISS + "/ssf/poll/gone"
        with self.assertRaises(feedmod.StreamGone):
            await f.poll_once()


if __name__ == "__main__":
    unittest.main()
