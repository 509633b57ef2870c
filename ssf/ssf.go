// Package ssf is Latchkey's OpenID Shared Signals (SSF 1.0) transmitter:
// the revocation feed. Every revoked session becomes a CAEP session-revoked
// Security Event Token (token.SETSigner), delivered to the receivers'
// streams by RFC 8936 poll delivery in long-poll mode. Streams and their
// acknowledgements live in the store (latchkey.SSFService), so any
// instance serves any stream; the in-memory revocation set's broadcast
// (auth.Revocations.Changed), which every instance's watcher feeds, wakes
// the held polls.
package ssf

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/token"
	"github.com/latchkey/latchkey/verify"
)

// The transmitter's constants.
const (
	// SpecVersion is the SSF version the configuration names.
	SpecVersion = "1_0"
	// DeliveryPoll is RFC 8936 poll delivery, the only method offered.
	DeliveryPoll = verify.DeliveryPoll
	// DefaultHold is how long an idle poll is held: under the server's
	// 10 s request deadline, with room for the answer.
	DefaultHold = 8 * time.Second
	// MaxEvents caps the SETs of one answer; moreAvailable says the rest.
	MaxEvents = 1000
)

// Service is the transmitter. Store, Signer, Changed and Issuer are
// required; zero durations take the defaults.
type Service struct {
	Store  latchkey.Store
	Signer *token.SETSigner
	// Changed returns a channel closed at the next revocation this
	// instance learns of (auth.Revocations.Changed).
	Changed func() <-chan struct{}
	Issuer  string
	// Retention is how long a revocation stays in the feed: at least the
	// access-token lifetime plus the verifiers' leeway.
	Retention time.Duration
	Hold      time.Duration
	Now       func() time.Time
	Log       *slog.Logger

	mu       sync.Mutex
	held     map[string]chan struct{} // stream id -> release of its held poll
	stopping bool                     // Stop was called: no poll is held
}

// Stop answers every held poll at once and holds none from then on: the
// server is shutting down, and a graceful shutdown would otherwise wait
// out each poll's hold. The receivers poll again, elsewhere or later.
func (s *Service) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping = true
	for id, ch := range s.held {
		close(ch)
		delete(s.held, id)
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) hold() time.Duration {
	if s.Hold > 0 {
		return s.Hold
	}
	return DefaultHold
}

// Configuration is the transmitter's metadata, served at
// /.well-known/ssf-configuration (SSF 1.0 §7.1). Subjects cannot be added
// or removed (every session is in every stream), so those endpoints are
// not named.
type Configuration struct {
	SpecVersion              string                `json:"spec_version"`
	Issuer                   string                `json:"issuer"`
	JWKSURI                  string                `json:"jwks_uri"`
	DeliveryMethodsSupported []string              `json:"delivery_methods_supported"`
	ConfigurationEndpoint    string                `json:"configuration_endpoint"`
	StatusEndpoint           string                `json:"status_endpoint"`
	VerificationEndpoint     string                `json:"verification_endpoint"`
	AuthorizationSchemes     []AuthorizationScheme `json:"authorization_schemes"`
	DefaultSubjects          string                `json:"default_subjects"`
	// RevocationRetention is Latchkey's own member: how many seconds a
	// revocation stays in the feed, so that verifiers keep it as long.
	RevocationRetention int64 `json:"latchkey_revocation_retention"`
}

// AuthorizationScheme names how receivers authenticate: RFC 6750 Bearer.
type AuthorizationScheme struct {
	SpecURN string `json:"spec_urn"`
}

// Configuration returns the metadata.
func (s *Service) Configuration() Configuration {
	return Configuration{
		SpecVersion:              SpecVersion,
		Issuer:                   s.Issuer,
		JWKSURI:                  s.Issuer + "/.well-known/jwks.json",
		DeliveryMethodsSupported: []string{DeliveryPoll},
		ConfigurationEndpoint:    s.Issuer + "/ssf/streams",
		StatusEndpoint:           s.Issuer + "/ssf/streams/status",
		VerificationEndpoint:     s.Issuer + "/ssf/verify",
		AuthorizationSchemes:     []AuthorizationScheme{{SpecURN: "urn:ietf:rfc:6750"}},
		DefaultSubjects:          "ALL",
		RevocationRetention:      int64((s.Retention + time.Second - 1) / time.Second),
	}
}

var errBadSecret = latchkey.Errorf(latchkey.EINVALIDTOKEN, "the receiver secret is unknown or was removed")

// Authenticate returns the receiver whose secret this is; EINVALIDTOKEN
// for any other (a removed receiver's included).
func (s *Service) Authenticate(ctx context.Context, secret string) (*latchkey.Receiver, error) {
	r, err := s.Store.FindReceiverBySecretHash(ctx, latchkey.HashReceiverSecret(secret))
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil, errBadSecret
	}
	return r, err
}
