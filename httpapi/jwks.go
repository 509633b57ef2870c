package httpapi

import "net/http"

// handleJWKS serves the JSON Web Key Set that verifiers of our access
// tokens fetch.
func (s *server) handleJWKS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		// Short enough that a rotation reaches verifiers well within the
		// old key's retention.
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(s.JWKS())
	})
}
