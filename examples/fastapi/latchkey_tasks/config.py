"""Settings from the environment, checked once at start."""

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A setting is missing or refused; the message names it."""


@dataclass(frozen=True)
class Settings:
    issuer: str  # LATCHKEY_ISSUER: Latchkey's issuer URL, the tokens' iss
    audience: str  # LATCHKEY_AUDIENCE: the tokens' aud
    jwks_url: str  # ISSUER/.well-known/jwks.json
    # LATCHKEY_RECEIVER_SECRET: the secret `latchkey receiver add` printed;
    # empty: no revocation feed (a revoked token passes until its exp).
    receiver_secret: str = ""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(name: str, raw: str) -> None:
    """The rule of Latchkey's verify.RemoteJWKS: https, or plain http only to
    a loopback host, so that no one on the path can swap the keys."""
    try:
        u = urlsplit(raw)
        host = u.hostname
    except ValueError as e:
        raise ConfigError(f"{name}: {e}") from None
    if not host:
        raise ConfigError(f"{name} {raw!r} has no host")
    scheme = u.scheme.lower()
    if scheme == "https" or (scheme == "http" and is_loopback(host)):
        return
    raise ConfigError(f"{name} {raw!r} must use https (plain http only to a loopback host)")


def from_env(env=os.environ) -> Settings:
    issuer = env.get("LATCHKEY_ISSUER", "")
    audience = env.get("LATCHKEY_AUDIENCE", "")
    # No defaults: guessing them would accept tokens meant for someone else.
    if not issuer:
        raise ConfigError("LATCHKEY_ISSUER is required: Latchkey's issuer URL, as in its LATCHKEY_ISSUER")
    if not audience:
        raise ConfigError("LATCHKEY_AUDIENCE is required: the aud of Latchkey's tokens, as in its LATCHKEY_AUDIENCE")
    check_url("LATCHKEY_ISSUER", issuer)
    secret = env.get("LATCHKEY_RECEIVER_SECRET", "").strip()
    return Settings(issuer=issuer, audience=audience, jwks_url=issuer.rstrip("/") + "/.well-known/jwks.json",
                    receiver_secret=secret)
