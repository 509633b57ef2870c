package httpapi

import (
	"net/http"

	"github.com/latchkey/latchkey/verify"
)

// requireTaskToken is requireToken for the task routes, which also accept
// access tokens of the trusted external issuer when one is configured. The
// token's unverified iss only picks the verifier; the chosen verifier then
// checks everything, signature first, so naming the other issuer gains an
// attacker nothing.
func (s *server) requireTaskToken(next http.Handler) http.Handler {
	own := s.requireToken(next)
	if s.Trusted == nil {
		return own
	}
	trusted := verify.Middleware(s.Trusted, verify.MiddlewareOptions{
		Realm:   realm,
		OnError: s.onTokenError,
	})(s.admitExternal(next))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, err := verify.BearerToken(r); err == nil && s.fromTrustedIssuer(tok) {
			trusted.ServeHTTP(w, r)
			return
		}
		own.ServeHTTP(w, r)
	})
}

// fromTrustedIssuer peeks at a token's iss without trusting it, only to
// pick the verifier. Tokens it cannot read (oversized, not a compact JWS)
// are left to our own verifier, which refuses them.
func (s *server) fromTrustedIssuer(tok string) bool {
	iss, ok := verify.UnverifiedIssuer(tok)
	return ok && iss == s.TrustedIssuer
}

// admitExternal makes sure the external subject is a user before its task
// routes run; email and name claims are never read, stored or logged.
func (s *server) admitExternal(next http.Handler) http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		c := claims(r)
		if _, err := s.Auth.ExternalUser(r.Context(), s.TrustedIssuer, c.Subject, c.Role); err != nil {
			return err
		}
		next.ServeHTTP(w, r)
		return nil
	})
}
