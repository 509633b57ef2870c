// Package verify checks Latchkey access tokens: JWS-signed JWTs carrying the
// claims iss, aud, sub, sid, role, iat, exp and jti.
//
// It is the single place where the rejection rules live. The Latchkey server
// verifies its own tokens through it, and any other Go service can import it
// to accept Latchkey tokens (Ed25519 keys from Latchkey's JWKS, a foreign
// issuer's JWKS, or a shared HS256 secret) without depending on the rest of
// the module.
//
// Parsing and signature checks are delegated to github.com/golang-jwt/jwt/v5;
// this package adds what that library leaves to its callers: a size cap
// checked before any decoding, a strict algorithm allow-list tied to the key
// type, rejection of every "crit" header, a "typ" check, required "exp" and
// "sub", and errors that carry the contract's stable codes.
//
// Keys come from a KeyFunc: [RemoteJWKS] for a JWK Set over https (Latchkey's
// /.well-known/jwks.json, or a foreign issuer's such as Better Auth's
// /api/auth/jwks), [StaticKeys] for fixed Ed25519 public keys, or
// [HMACSecret] for a shared HS256 secret. [Middleware] guards net/http
// routes with the contract's 401s; [RequireRole] and [RequireSubject],
// chained inside it, answer its 403 forbidden. [Config.AllowNoType] admits
// issuers that set no "typ" header. [Config.CacheSize] remembers verified
// tokens (by their SHA-256, until their exp) so that a repeat verification
// costs well under a microsecond; revocation is still checked on every hit.
//
// Headers that name key material ("jku", "x5u", "jwk", "x5c") are never
// consulted: keys come only from [Config.Keys], looked up by "kid". Trusting a
// key the token itself points at would let anyone sign a token.
package verify
