"""Security Event Tokens (RFC 8417) of Latchkey's revocation feed, checked as
Latchkey's Go `verify.ParseSET` checks them, in the same order (the first
failure is reported):

size and the compact form; `alg` EdDSA; no `crit`; `typ` secevent+jwt (any
case, `application/` allowed); the `kid` in Latchkey's JWKS; the signature;
`iss`; `aud` holding the receiver's audience; `iat` present and not in the
future (30 s leeway); `jti` present; no `exp` and no `sub` (which an access
token must have, so neither can pass as the other); exactly one event, an
object. For session-revoked, a complex `sub_id` naming the session (opaque)
or the user (iss_sub of this issuer, with `event_timestamp`). Any other event
type is "unknown": acknowledged and ignored.

Every refusal is a SETError with the RFC 8935 §2.4 code the poll's `setErrs`
carries back, and a reason word of a closed set (never the token).
"""

import binascii
import json
from dataclasses import dataclass, field
from typing import Optional

import jwt

from .tokens import MAX_TOKEN_SIZE, TokenError, _b64url

SET_TYPE = "secevent+jwt"
EVENT_SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
EVENT_VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification"
EVENT_STREAM_UPDATED = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated"
IAT_LEEWAY = 30.0
MAX_NUMERIC_DATE = 253402300799  # the last second of the year 9999

DESCRIPTIONS = {
    "oversized": "SET too large",
    "malformed": "malformed SET",
    "bad_alg": "signing algorithm not accepted",
    "crit": "critical header not supported",
    "bad_typ": "typ is not secevent+jwt",
    "unknown_kid": "unknown signing key",
    "key_unavailable": "signing keys unavailable",
    "bad_signature": "invalid SET signature",
    "bad_issuer": "SET issuer not accepted",
    "bad_audience": "SET audience not accepted",
    "missing_iat": "SET has no iat",
    "not_yet_valid": "SET issued in the future",
    "missing_jti": "SET has no jti",
    "exp_present": "SET must not have exp",
    "sub_present": "SET must not have sub",
    "event_count": "SET must have exactly one event",
    "bad_event": "event payload does not fit its type",
    "bad_subject": "sub_id does not name the event's subject",
}


class SETError(Exception):
    """A refused SET. retry: the fault may be ours (the kid is unknown, or
    the keys could not be read), so the SET is left for the transmitter to
    send again once before it is reported."""

    def __init__(self, code: str, reason: str, retry: bool = False):
        super().__init__(f"SET {code} ({reason})")
        self.code, self.reason, self.retry = code, reason, retry

    @property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.reason, "invalid SET")


def _req(reason: str) -> SETError:
    return SETError("invalid_request", reason)


@dataclass
class SET:
    jti: str
    issued_at: float
    kind: str  # session-revoked, verification, stream-updated or unknown
    event_type: str
    session_id: str = ""
    user_id: str = ""
    event_time: float = 0.0  # 0 when absent
    stream_status: str = ""
    state: str = ""
    raw: dict = field(default_factory=dict)


def _numeric_date(m: dict, name: str) -> Optional[float]:
    """A NumericDate: absent is 0; not a number, negative or past 9999 is None."""
    v = m.get(name)
    if v is None:
        return 0.0
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v > MAX_NUMERIC_DATE:
        return None
    return float(v)


def _header(raw: str) -> dict:
    if len(raw) > MAX_TOKEN_SIZE:
        raise _req("oversized")
    parts = raw.split(".")
    if not raw or len(parts) != 3:
        raise _req("malformed")
    try:
        for p in parts:
            _b64url(p)
        header = json.loads(_b64url(parts[0]))
    except (ValueError, binascii.Error):
        raise _req("malformed") from None
    if not isinstance(header, dict):
        raise _req("malformed")
    if header.get("alg") != "EdDSA":
        raise SETError("invalid_key", "bad_alg")
    if "crit" in header:
        raise _req("crit")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != SET_TYPE:
        raise _req("bad_typ")
    if not isinstance(header.get("kid", ""), str):
        raise _req("malformed")
    return header


async def parse_set(raw: str, jwks, issuer: str, audience: str, now: float) -> SET:
    """raw verified as a SET of issuer for audience at now (Unix seconds);
    jwks is a tokens.JWKS. Raises SETError."""
    header = _header(raw)
    kid = header.get("kid", "")
    try:
        key = await jwks.key(kid)
    except TokenError as e:
        if e.reason == "unknown_kid":
            # A SET naming no kid is not helped by fetching the keys again.
            raise SETError("invalid_key", "unknown_kid", retry=kid != "") from None
        raise SETError("invalid_key", "key_unavailable", retry=True) from None
    try:
        signed = jwt.api_jws.decode_complete(raw, key, algorithms=["EdDSA"])
    except jwt.InvalidSignatureError:
        raise SETError("invalid_key", "bad_signature") from None
    except jwt.PyJWTError:
        raise _req("malformed") from None
    try:
        claims = json.loads(signed["payload"])
    except ValueError:
        raise _req("malformed") from None
    if not isinstance(claims, dict):
        raise _req("malformed")
    return _set_of(claims, issuer, audience, now)


def _set_of(c: dict, issuer: str, audience: str, now: float) -> SET:
    iss = c.get("iss")
    if not isinstance(iss, str) or iss != issuer:
        raise SETError("invalid_issuer", "bad_issuer")
    aud = c.get("aud")
    auds = [aud] if isinstance(aud, str) else aud
    if not isinstance(auds, list) or not all(isinstance(a, str) for a in auds) or audience not in auds:
        raise SETError("invalid_audience", "bad_audience")
    iat = _numeric_date(c, "iat")
    if iat is None:
        raise _req("malformed")
    if iat == 0:
        raise _req("missing_iat")
    if iat > now + IAT_LEEWAY:
        raise _req("not_yet_valid")
    jti = c.get("jti", "")
    if not isinstance(jti, str):
        raise _req("malformed")
    if not jti:
        raise _req("missing_jti")
    if "exp" in c:
        raise _req("exp_present")
    if "sub" in c:
        raise _req("sub_present")
    events = c.get("events")
    if not isinstance(events, dict) or len(events) != 1:
        raise _req("event_count")
    (typ, ev), = events.items()
    if not isinstance(ev, dict):
        raise _req("bad_event")
    s = SET(jti=jti, issued_at=iat, kind="unknown", event_type=typ, raw=c)
    if typ == EVENT_SESSION_REVOKED:
        s.kind = "session-revoked"
        _session_revoked(s, c.get("sub_id"), ev, issuer)
    elif typ == EVENT_VERIFICATION:
        s.kind = "verification"
        state = ev.get("state", "")
        if not isinstance(state, str):
            raise _req("bad_event")
        s.state = state
        _stream_subject(c.get("sub_id"))
    elif typ == EVENT_STREAM_UPDATED:
        s.kind = "stream-updated"
        status = ev.get("status")
        if status not in ("enabled", "paused", "disabled"):
            raise _req("bad_event")
        s.stream_status = status
        _stream_subject(c.get("sub_id"))
    return s


def _opaque(raw) -> Optional[str]:
    if not isinstance(raw, dict):
        return None
    id_ = raw.get("id")
    return id_ if raw.get("format") == "opaque" and isinstance(id_, str) and id_ else None


def _stream_subject(sub_id) -> None:
    if sub_id is not None and _opaque(sub_id) is None:
        raise _req("bad_subject")


def _session_revoked(s: SET, sub_id, ev: dict, issuer: str) -> None:
    ts = _numeric_date(ev, "event_timestamp")
    if ts is None:
        raise _req("bad_event")
    s.event_time = ts
    if not isinstance(sub_id, dict) or sub_id.get("format") != "complex":
        raise _req("bad_subject")
    if "session" in sub_id:
        sid = _opaque(sub_id["session"])
        if sid is None:
            raise _req("bad_subject")
        s.session_id = sid
    if "user" in sub_id:
        u = sub_id["user"]
        u = u if isinstance(u, dict) else {}
        uid = u.get("sub")
        if u.get("format") != "iss_sub" or u.get("iss") != issuer or not isinstance(uid, str) or not uid:
            raise _req("bad_subject")
        s.user_id = uid
    if not s.session_id and not s.user_id:
        raise _req("bad_subject")
    if not s.session_id and s.event_time == 0:
        # A user-scoped event without its bound would revoke every token of
        # the user, past and future alike.
        raise _req("bad_event")
