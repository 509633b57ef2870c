"""Latchkey access-token verification with PyJWT, by the rules of Latchkey's
`verify` package (docs/api.md, "Tokens"):

- only `Authorization: Bearer` carries a token; an `access_token` query
  parameter is never used (missing_token alone, invalid_token beside a header);
- at most 8192 bytes, checked before anything is decoded; only base64url
  characters and dots, each part canonical base64url;
- header: `alg` EdDSA and nothing else (so never `none`, never an HMAC keyed
  with a public key), `typ` at+jwt (case-insensitive, an `application/`
  prefix allowed, as RFC 7515 lets it be written; absent is refused), no
  `crit`, `kid` found in Latchkey's JWKS; `jku`, `x5u` and `jwk` are ignored;
- claims: `iss` and `aud` exactly the configured ones, `exp` required,
  non-empty `sub`, `sid` and `jti` (Latchkey's own tokens always carry them);
- `exp` and `nbf` with Latchkey's leeway: 30 s, but never more than a tenth of
  the token's lifetime (`exp - iat`, which is Latchkey's access TTL), so a
  2-minute token gets 12 s.

Failures are TokenError with the contract's code and a reason word; the
description is fixed per reason, so it never echoes the token.
"""

import asyncio
import base64
import binascii
import json
import math
import re
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import unquote_plus

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MAX_TOKEN_SIZE = 8192
MAX_LEEWAY = 30.0
ACCESS_TYPE = "at+jwt"
MAX_JWKS_BYTES = 1 << 20
JWKS_REFRESH = 300.0  # Latchkey's JWKS answers Cache-Control: max-age=300
JWKS_MIN_INTERVAL = 1.0  # at most one fetch a second, however many unknown kids come
JWKS_MAX_STALE = 3600.0  # known keys keep verifying this long while fetches fail
JWKS_TIMEOUT = 10.0

DESCRIPTIONS = {
    "missing": "missing bearer token",
    "query_token": "access token must not be sent in the URL",
    "oversized": "access token too large",
    "malformed": "malformed access token",
    "bad_alg": "signing algorithm not accepted",
    "unknown_kid": "unknown signing key",
    "key_unavailable": "signing key unavailable",
    "bad_signature": "invalid token signature",
    "bad_typ": "token type not accepted",
    "crit": "critical header not supported",
    "bad_issuer": "token issuer not accepted",
    "bad_audience": "token audience not accepted",
    "expired": "access token expired",
    "not_yet_valid": "access token not yet valid",
    "missing_exp": "access token has no expiry",
    "missing_sub": "access token has no subject",
    "missing_sid": "access token names no session",
    "missing_jti": "access token has no id",
    "revoked": "access token revoked",
    "revocations_stale": "revocations_stale: access token too old to check for revocation; refresh it",
}


class TokenError(Exception):
    """A refused token: code is missing_token, invalid_token, token_expired
    or token_revoked."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code} ({reason})")
        self.code = code
        self.reason = reason

    @property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.reason, "invalid access token")


def invalid(reason: str) -> TokenError:
    return TokenError("invalid_token", reason)


# --- where the token comes from -------------------------------------------


def _query_names_token(raw: str) -> bool:
    """An access_token parameter in any case, percent-encoded or not, with
    pairs split at & or ; (as some servers and proxies do)."""
    for pair in re.split(r"[&;]", raw):
        name = pair.split("=", 1)[0]
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if name.strip().lower() == "access_token":
            return True
    return False


def bearer_token(authorization: list, raw_query: str) -> str:
    """The token of the one `Authorization: Bearer X` header (RFC 6750 §2.1)."""
    in_query = _query_names_token(raw_query)
    is_bearer = len(authorization) == 1 and authorization[0].strip().split(" ", 1)[0].lower() == "bearer"
    if not authorization or (len(authorization) == 1 and not is_bearer):
        raise TokenError("missing_token", "query_token" if in_query else "missing")
    if in_query:
        raise invalid("query_token")
    if len(authorization) > 1:
        raise invalid("malformed")  # proxies disagree on which one wins
    parts = authorization[0].strip().split(" ", 1)
    token = parts[1].lstrip(" ") if len(parts) == 2 else ""
    if not token or " " in token or "\t" in token:
        raise invalid("malformed")
    return token


# --- Latchkey's JWKS -------------------------------------------------------


def _b64url(seg: str) -> bytes:
    """Strict base64url without padding: one token has one spelling."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", seg):
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != seg:
        raise ValueError("non-canonical base64url")
    return raw


def parse_jwks(body: bytes) -> dict:
    """kid -> Ed25519 public key, for the keys an EdDSA verifier can use."""
    doc = json.loads(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise ValueError("not a JWKS")
    keys = {}
    for k in doc["keys"]:
        if not isinstance(k, dict) or k.get("kty") != "OKP" or k.get("crv") != "Ed25519":
            continue
        if k.get("use", "sig") != "sig" or k.get("alg", "EdDSA") != "EdDSA":
            continue
        kid, x = k.get("kid"), k.get("x")
        if not isinstance(kid, str) or not isinstance(x, str):
            continue
        try:
            raw = _b64url(x)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == 32:
            keys[kid] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


class JWKS:
    """Latchkey's public keys, fetched with httpx, as verify.RemoteJWKS
    keeps them:

    - a kid it does not know makes it fetch again, at most once a second
      (concurrent requests share the fetch), so a key rotated at Latchkey
      works here at its first token;
    - the set is fetched again in the background every 300 s (the JWKS's
      max-age), so a key Latchkey retired stops verifying;
    - while Latchkey cannot be reached, known keys keep verifying for an
      hour after the last good fetch; an unknown kid is then
      key_unavailable (the set could not be checked), not unknown_kid.
    """

    def __init__(self, url: str, client: httpx.AsyncClient, log, clock=time.monotonic, sleep=asyncio.sleep):
        self.url = url
        self.client = client
        self.log = log
        self.clock, self.sleep = clock, sleep  # replaced in tests
        self.keys: dict = {}
        self.started = 0  # fetches started, so a request knows which came after it
        self.last_start = -math.inf  # monotonic times
        self.last_ok = -math.inf
        self.failing = False
        self.lock = asyncio.Lock()
        self.background = None  # the latest background refresh
        self.running: set = set()  # holds every background task until it ends

    async def key(self, kid: str) -> Ed25519PublicKey:
        now, seen = self.clock(), self.started
        if kid in self.keys and now - self.last_ok < JWKS_MAX_STALE:
            if now - self.last_start >= JWKS_REFRESH and not self.lock.locked():
                self.background = asyncio.create_task(self.fetch_after(seen))
                self.running.add(self.background)
                self.background.add_done_callback(self.running.discard)
            return self.keys[kid]
        await self.fetch_after(seen)
        if kid in self.keys and self.clock() - self.last_ok < JWKS_MAX_STALE:
            return self.keys[kid]
        raise invalid("key_unavailable" if self.failing else "unknown_kid")

    async def fetch_after(self, seen: int) -> None:
        """Waits for a fetch that started after the first seen ones (so after
        the caller came), starting it no sooner than a second after the
        previous one started."""
        async with self.lock:
            if self.started > seen:
                return  # one started after the caller came, and has ended
            wait = self.last_start + JWKS_MIN_INTERVAL - self.clock()
            if wait > 0:
                await self.sleep(wait)
            self.last_start = self.clock()
            self.started += 1
            try:
                self.keys = await self._fetch()
            except (httpx.HTTPError, ValueError) as e:
                if not self.failing:  # once per outage
                    self.log.warning("fetching Latchkey's JWKS %s failed: %s", self.url, type(e).__name__)
                self.failing = True
                return
            if self.failing:
                self.log.warning("fetching Latchkey's JWKS works again")
            self.last_ok, self.failing = self.clock(), False

    async def _fetch(self) -> dict:
        # No redirects are followed (httpx's default): the URL rule holds.
        async with self.client.stream("GET", self.url, timeout=JWKS_TIMEOUT) as r:
            if r.status_code != 200:
                raise ValueError(f"JWKS answered {r.status_code}")
            body = b""
            async for chunk in r.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError("JWKS too large")
        return parse_jwks(body)


# --- the token -------------------------------------------------------------


@dataclass(frozen=True)
class Claims:
    subject: str
    session_id: str
    role: str
    token_id: str
    issued_at: Optional[float]
    expires_at: float
    amr: tuple
    raw: dict


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _header(token: str) -> dict:
    if len(token) > MAX_TOKEN_SIZE:
        raise invalid("oversized")
    parts = token.split(".")
    if len(parts) != 3:
        raise invalid("malformed")
    try:
        for p in parts:
            _b64url(p)
        header = jwt.get_unverified_header(token)
    except (ValueError, binascii.Error, jwt.PyJWTError):
        raise invalid("malformed") from None
    if "crit" in header:
        raise invalid("crit")  # RFC 7515 §4.1.11: we understand no extension
    if header.get("alg") != "EdDSA":
        raise invalid("bad_alg")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != ACCESS_TYPE:
        raise invalid("bad_typ")  # an ID token, a SET, a refresh token...
    kid = header.get("kid", "")
    if not isinstance(kid, str):
        raise invalid("malformed")
    return header


def leeway(iat, exp) -> float:
    """Latchkey's leeway: 30 s, at most a tenth of the access TTL."""
    return MAX_LEEWAY if iat is None else max(0.0, min(MAX_LEEWAY, (exp - iat) / 10))


class Verifier:
    def __init__(self, issuer: str, audience: str, jwks: JWKS, now=time.time, revocations=None):
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.now = now
        # feed.Revocations, fed by Latchkey's revocation feed; None without
        # LATCHKEY_RECEIVER_SECRET (then a revoked token passes until its exp).
        self.revocations = revocations

    async def verify(self, token: str) -> Claims:
        header = _header(token)
        key = await self.jwks.key(header.get("kid", ""))
        try:
            # PyJWT checks the signature (EdDSA only), iss and aud; exp, nbf
            # and iat are checked below with Latchkey's leeway rule.
            payload = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                issuer=self.issuer,
                audience=self.audience,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "require": []},
            )
        except jwt.InvalidSignatureError:
            raise invalid("bad_signature") from None
        except jwt.InvalidIssuerError:
            raise invalid("bad_issuer") from None
        except jwt.InvalidAudienceError:
            raise invalid("bad_audience") from None
        except jwt.MissingRequiredClaimError as e:
            raise invalid("bad_issuer" if e.claim == "iss" else "bad_audience") from None
        except jwt.InvalidAlgorithmError:
            raise invalid("bad_alg") from None
        except jwt.PyJWTError:
            raise invalid("malformed") from None
        claims = self._claims(payload)
        if self.revocations is not None:
            # Latchkey's revocation feed (feed.py): a revoked sid is
            # token_revoked; while the feed is not current, a token older
            # than 60 s is token_expired (revocations_stale), as in verify.
            self.revocations.check(claims, leeway(claims.issued_at, claims.expires_at))
        return claims

    def _claims(self, p: dict) -> Claims:
        exp, iat, nbf = p.get("exp"), p.get("iat"), p.get("nbf")
        if exp is None:
            raise invalid("missing_exp")
        for v in (exp, iat, nbf):
            if v is not None and not _number(v):
                raise invalid("malformed")
        lw = leeway(iat, exp)
        now = self.now()
        if nbf is not None and now + lw < nbf:
            raise invalid("not_yet_valid")
        if now >= exp + lw:
            raise TokenError("token_expired", "expired")
        sub, sid, jti, role = p.get("sub"), p.get("sid", ""), p.get("jti", ""), p.get("role", "")
        amr = p.get("amr", [])
        if not all(isinstance(v, str) for v in (sub if sub is not None else "", sid, jti, role)):
            raise invalid("malformed")
        if not isinstance(amr, list) or not all(isinstance(a, str) for a in amr):
            raise invalid("malformed")
        if not sub:
            raise invalid("missing_sub")
        if not sid:
            raise invalid("missing_sid")  # a token naming no session could never be revoked
        if not jti:
            raise invalid("missing_jti")
        return Claims(sub, sid, role, jti, iat, exp, tuple(amr), p)
