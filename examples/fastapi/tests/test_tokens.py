"""Unit tests of what the end-to-end test cannot reach in seconds: the JWKS
cache's timing (background refresh at 300 s, an hour of stale keys, one fetch
a second shared by concurrent requests), the leeway rule, and the bearer
rules. Run: /usr/bin/python3 -m unittest discover -s tests (from
examples/fastapi); cmd/latchkey's TestFastAPIExampleUnit does."""

import asyncio
import base64
import json
import logging
import unittest

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from latchkey_tasks import tokens
from latchkey_tasks.tokens import JWKS, TokenError, Verifier, bearer_token


def jwk(kid: str) -> dict:
    pub = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": base64.urlsafe_b64encode(pub).rstrip(b"=").decode()}


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, d: float):
        self.t += d
        await asyncio.sleep(0)


class Issuer:
    """A fake JWKS endpoint: serves kids, counts fetches, can be down."""

    def __init__(self, *kids):
        self.kids, self.fetches, self.down = list(kids), [], False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches.append(request.url)
        if self.down:
            raise httpx.ConnectError("down", request=request)
        return httpx.Response(200, json={"keys": [jwk(k) for k in self.kids]})


def make(issuer: Issuer, clock: Clock) -> JWKS:
    client = httpx.AsyncClient(transport=httpx.MockTransport(issuer.handler))
    return JWKS("http://127.0.0.1:1/.well-known/jwks.json", client, logging.getLogger("test"), clock=clock, sleep=clock.sleep)


class JWKSTest(unittest.IsolatedAsyncioTestCase):
    async def test_unknown_kids_share_one_fetch_a_second(self):
        iss, clock = Issuer("a"), Clock()
        j = make(iss, clock)
        await j.key("a")
        iss.kids.append("b")
        got = await asyncio.gather(*(j.key("b") for _ in range(20)), return_exceptions=True)
        self.assertFalse([g for g in got if isinstance(g, Exception)], got)
        self.assertEqual(len(iss.fetches), 2, "20 concurrent requests for one new kid: one fetch")
        # A made-up kid right after: waits until a second after that fetch began.
        before = clock.t
        with self.assertRaises(TokenError) as e:
            await j.key("made-up")
        self.assertEqual(e.exception.reason, "unknown_kid")
        self.assertEqual(len(iss.fetches), 3)
        self.assertAlmostEqual(clock.t - before, tokens.JWKS_MIN_INTERVAL, delta=0.01)

    async def test_refreshed_in_the_background_after_max_age(self):
        iss, clock = Issuer("old"), Clock()
        j = make(iss, clock)
        await j.key("old")
        iss.kids = ["new"]  # Latchkey retired "old"
        clock.t += tokens.JWKS_REFRESH - 1
        await j.key("old")
        self.assertEqual(len(iss.fetches), 1, "no fetch before the max-age")
        clock.t += 1
        await j.key("old")  # served from the cache, refresh started behind it
        await j.background
        self.assertEqual(len(iss.fetches), 2)
        with self.assertRaises(TokenError) as e:
            await j.key("old")
        self.assertEqual(e.exception.reason, "unknown_kid", "a retired key stops verifying after the refresh")

    async def test_stale_keys_for_an_hour_while_fetches_fail(self):
        iss, clock = Issuer("a"), Clock()
        j = make(iss, clock)
        await j.key("a")
        iss.down = True
        with self.assertRaises(TokenError) as e:
            await j.key("unknown")
        self.assertEqual(e.exception.reason, "key_unavailable", "the set could not be checked")
        clock.t += tokens.JWKS_MAX_STALE - 10
        self.assertIsNotNone(await j.key("a"), "known keys keep verifying while the issuer is down")
        if j.background:
            await j.background
        clock.t += 20
        with self.assertRaises(TokenError) as e:
            await j.key("a")
        self.assertEqual(e.exception.reason, "key_unavailable", "an hour after the last good fetch")
        iss.down = False
        clock.t += 2
        self.assertIsNotNone(await j.key("a"), "back when the issuer answers")

    async def test_bad_sets_are_refused_whole(self):
        for body in (b"[]", b'{"keys": {}}', b"not json", b"\xff"):
            with self.assertRaises(ValueError, msg=body):
                tokens.parse_jwks(body)
        keys = tokens.parse_jwks(json.dumps({"keys": [
            jwk("ok"),
            {**jwk("rsa"), "kty": "RSA"},
            {**jwk("enc"), "use": "enc"},
            {**jwk("es"), "alg": "ES256"},
            {**jwk("short"), "x": "AAAA"},
            {**jwk("noncanonical"), "x": jwk("x")["x"][:-1] + "B"},
        ]}).encode())
        self.assertEqual(set(keys), {"ok"})


class LeewayTest(unittest.TestCase):
    def claims(self, now, **c):
        v = Verifier("i", "a", None, now=lambda: now)
        base = {"sub": "u", "sid": "s", "jti": "j"}
        try:
            v._claims({**base, **c})
        except TokenError as e:
            return e.code
        return "ok"

    def test_a_tenth_of_the_lifetime_at_most_30_s(self):
        now = 10_000
        # 15 minutes: 30 s.
        self.assertEqual(self.claims(now, iat=now - 929, exp=now - 29), "ok")
        self.assertEqual(self.claims(now, iat=now - 930, exp=now - 30), "token_expired")
        # 2 minutes: 12 s.
        self.assertEqual(self.claims(now, iat=now - 131, exp=now - 11), "ok")
        self.assertEqual(self.claims(now, iat=now - 132, exp=now - 12), "token_expired")
        # No iat: 30 s.
        self.assertEqual(self.claims(now, exp=now - 29), "ok")
        # nbf with the same leeway.
        self.assertEqual(self.claims(now, iat=now, exp=now + 120, nbf=now + 12), "ok")
        self.assertEqual(self.claims(now, iat=now, exp=now + 120, nbf=now + 13), "invalid_token")
        # Types.
        self.assertEqual(self.claims(now, exp=True), "invalid_token")
        self.assertEqual(self.claims(now, exp="9999999999"), "invalid_token")


class BearerTest(unittest.TestCase):
    def code(self, headers, query=""):
        try:
            return bearer_token(headers, query)
        except TokenError as e:
            return f"{e.code}/{e.reason}"

    def test_rules(self):
        self.assertEqual(self.code(["Bearer abc"]), "abc")
        self.assertEqual(self.code(["bEaReR   abc"]), "abc")
        self.assertEqual(self.code([]), "missing_token/missing")
        self.assertEqual(self.code(["Basic abc"]), "missing_token/missing")
        self.assertEqual(self.code([], "access_token=abc"), "missing_token/query_token")
        self.assertEqual(self.code(["Bearer abc"], "x=1;Access%5Ftoken=abc"), "invalid_token/query_token")
        self.assertEqual(self.code(["Bearer abc"], "access+token=1"), "abc")
        self.assertEqual(self.code(["Bearer abc", "Bearer abc"]), "invalid_token/malformed")
        self.assertEqual(self.code(["Bearer"]), "invalid_token/malformed")
        self.assertEqual(self.code(["Bearer a b"]), "invalid_token/malformed")
        self.assertEqual(self.code(["Bearer a\tb"]), "invalid_token/malformed")


if __name__ == "__main__":
    unittest.main()
