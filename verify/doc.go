// Package verify checks Latchkey access tokens: JWS-signed JWTs carrying the
// claims iss, aud, sub, sid, role, iat, exp, jti and amr.
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
// "sub", and errors that carry the contract's stable codes. Every rule is
// listed under Rejection rules below.
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
// [Config.Revocations] takes a [RevocationSet], the issuer's revoked
// sessions as its revocation feed delivers them ([RemoteRevocations]
// subscribes to Latchkey's Shared Signals feed and keeps one), so that a
// sign-out is refused here too; while the feed is not current, only
// tokens younger than a minute pass, and older ones are told to refresh.
// A service accepting several issuers picks the Verifier for a token with
// [UnverifiedIssuer], which reads "iss" without verifying anything.
//
// Headers that name key material ("jku", "x5u", "jwk", "x5c") are never
// consulted: keys come only from [Config.Keys], looked up by "kid". Trusting a
// key the token itself points at would let anyone sign a token.
//
// # Security Event Tokens
//
// [ParseSET] checks the Security Event Tokens (RFC 8417) of Latchkey's
// Shared Signals feed: CAEP session-revoked and SSF verification events,
// signed EdDSA with the same keys as access tokens, so one KeyFunc serves
// both. A SET's "typ" is secevent+jwt and it has neither exp nor sub,
// while an access token must have typ at+jwt, exp and sub: neither passes
// as the other, whatever [Config.Type] or [Config.AllowNoType] say (RFC
// 8725 §3.11). A refused SET is a [*SETError] whose Code is the RFC 8935
// error code a receiver sends back in setErrs, and whose Retry says the
// fault may be the receiver's (an unknown kid, unreadable keys).
//
// # Rejection rules
//
// Every refusal is an [*Error]: its Code is the contract's (clients branch
// on it: token_expired means refresh, the others mean sign in again) and its
// Reason one word of a closed set, for metrics and audit. [Verifier.Verify]
// applies the rules below in this order and reports the first that fails,
// written code/reason.
//
// Shape, before anything is decoded:
//
//   - An empty token: missing_token/missing.
//   - Longer than [Config.MaxSize] bytes ([DefaultMaxSize], 8192, when
//     zero): invalid_token/oversized. This runs before the cache lookup
//     too, so that a huge hostile token costs nothing.
//   - A character other than the base64url alphabet and ".":
//     invalid_token/malformed. Go's base64 decoders skip \r and \n, which
//     would give one signed token several spellings.
//   - Not three segments, a segment not strict unpadded base64url, or a
//     header or payload that is not a JSON object: invalid_token/malformed.
//
// Header, before any key is looked up:
//
//   - "alg" missing, not a string, or not in [Config.Algorithms] (EdDSA
//     when empty; New accepts only EdDSA and HS256, so "none", RS256 and
//     ES256 never pass): invalid_token/bad_alg.
//   - "crit" present with any value, null and [] included (RFC 7515
//     §4.1.11; this package understands no extension): invalid_token/crit.
//   - "typ" missing, or not [Config.Type] ([DefaultType], at+jwt, when
//     empty; compared without case, the "application/" prefix optional):
//     invalid_token/bad_typ. [Config.AllowNoType] admits a header without
//     typ; an empty, null or non-string typ stays refused.
//   - "kid" present but not a string: invalid_token/malformed.
//
// Key, asked of [Config.Keys] for the kid and alg:
//
//   - No key for the kid (the KeyFunc's error wraps [ErrUnknownKey]):
//     invalid_token/unknown_kid. [StaticKeys] and [RemoteJWKS] know no key
//     for a missing kid. RemoteJWKS knows none for a JWK that is not an
//     Ed25519 signing key either, and before calling a kid unknown it
//     waits for a fetch of the set that starts after the token came: at
//     once, or JWKSOptions.MinRefetch (1 s) after the previous fetch
//     started, shared by every token waiting then. An issuer's rotation
//     costs its users a wait of about a second, not a refusal, and made-up
//     kids cost it at most one fetch per MinRefetch.
//   - Any other KeyFunc error: invalid_token/key_unavailable. For
//     RemoteJWKS: never fetched, the last fetch failed and the kid is not
//     cached, the keys are older than JWKSOptions.MaxStale, or it was
//     stopped. Its URL must be https, or http to a loopback host
//     ([CheckJWKSURL]).
//   - A key that does not fit the alg (EdDSA needs an ed25519.PublicKey,
//     HS256 a []byte secret, so that a public key never becomes an HMAC
//     secret): invalid_token/bad_alg.
//   - An Ed25519 key of the wrong size, or an empty HMAC secret:
//     invalid_token/bad_key.
//
// Signature:
//
//   - The signature does not verify with that key: invalid_token/bad_signature.
//
// Registered claims, checked by golang-jwt once the signature holds. When
// several fail, being wrong for this service wins over being expired,
// since "expired" invites a refresh that cannot help:
//
//   - exp or nbf not a number, iss not a string, aud neither a string nor
//     an array of strings: invalid_token/malformed.
//   - iss missing or not exactly [Config.Issuer]: invalid_token/bad_issuer.
//   - aud missing, or neither [Config.Audience] nor an array holding it:
//     invalid_token/bad_audience.
//   - exp missing or 0: invalid_token/missing_exp.
//   - nbf later than now plus the leeway: invalid_token/not_yet_valid.
//   - exp earlier than now minus the leeway: token_expired/expired.
//
// The leeway is [Config.Leeway]: [DefaultLeeway] (30 s) when zero, and New
// refuses more than [MaxLeeway] (30 s). iat is not compared with the clock.
//
// Other claims, checked by this package once those pass:
//
//   - sub missing or empty: invalid_token/missing_sub.
//   - sub, sid, role or jti present but not a string, iat present but not
//     a number, or amr present but not an array of strings:
//     invalid_token/malformed.
//   - sub longer than [Config.MaxSubjectLength] bytes, when that is set:
//     invalid_token/sub_too_long.
//   - sid missing or empty, when [Config.RequireSessionID] is set:
//     invalid_token/missing_sid.
//   - jti missing or empty, when [Config.RequireTokenID] is set:
//     invalid_token/missing_jti.
//
// Revocation, last, so that a store is only asked about authentic tokens:
//
//   - [Config.Revocations] holds the token's sid, or its sub with a time
//     at or after the token's iat: token_revoked/revoked.
//   - [Config.IsRevoked] answers true: token_revoked/revoked.
//   - With [Config.Revocations] set, a token without iat, or whose exp −
//     iat plus the leeway exceeds the set's Retain (it could outlive its
//     revocation record): token_expired/revocations_stale.
//   - With [Config.Revocations] set and not current (no answer from its
//     feed for MaxStale, 15 s by default, never synced, or a revocation
//     dropped at MaxEntries), a token whose age (now − iat) exceeds
//     StaleTokenAge (60 s by default; negative turns this off):
//     token_expired/revocations_stale. The client refreshes at the
//     issuer, which checks its store, so a revoked token lives at most
//     about a minute while the feed is down, not until its exp.
//
// Anything golang-jwt reports that none of the above names:
// invalid_token/invalid.
//
// After [Middleware], [RequireRole], [RequireSubject] and [RequireMFA]
// answer 403 forbidden to a valid token that may not pass: another role,
// another user's path, no "mfa" in amr.
//
// With [Config.CacheSize] set, a token that passed every rule is kept (by
// its SHA-256) until its exp. A repeat is answered from the cache after the
// size check, with Revocations and IsRevoked asked again and Config.Keys not consulted; a
// refused token is never cached, so no rule is ever skipped for one.
//
// Requests, in [BearerToken] and so in [Middleware], before Verify. A
// token is taken from the Authorization header only; one in the query
// string is never used, and the body is never read:
//
//   - No Authorization header, or a scheme other than Bearer, with an
//     access_token query parameter: missing_token/query_token. No bearer
//     credentials came (RFC 6750 §3.1), so the challenge carries no
//     error; the description says tokens do not go in the URL.
//   - No Authorization header, or a scheme other than Bearer, otherwise:
//     missing_token/missing. A token in a form body is not looked for, so
//     such a request lands here too.
//   - An access_token query parameter beside a Bearer header:
//     invalid_token/query_token. URLs end up in access logs, browser
//     history and Referer headers. The name is matched in any case,
//     percent-encoded or not, with pairs split at ";" as well as "&".
//   - Several Authorization headers, "Bearer" without a token, or a token
//     holding a space or tab: invalid_token/malformed.
//
// [WriteError], and so Middleware, answers an error that is not an *Error
// as invalid_token/invalid. [RequireRole] and [RequireSubject], chained
// inside Middleware, answer 403 forbidden for a valid token without the
// role, or whose sub is not the route's user.
//
// [New] refuses a configuration that would weaken these rules: no Issuer,
// Audience or Keys, an algorithm other than EdDSA and HS256, a Type that
// names no type, a Leeway that is negative or over MaxLeeway, a negative
// MaxSize, MaxSubjectLength or CacheSize, or Revocations whose Retain does
// not exceed the leeway (every token would outlive its record).
package verify
