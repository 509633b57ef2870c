// Package app turns a configuration into a running Latchkey server: it
// opens the store and its key-encryption key, the signing key ring, the
// revocation set, the verifier with its cache, the password gate, the
// account service and the HTTP handler, runs the background jobs, and
// stops them in order. `latchkey serve`, the other commands and the tests
// (through internal/testkit) all build the server here, so that what is
// tested is what ships.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/keyseal"
	"github.com/latchkey/latchkey/mail"
	"github.com/latchkey/latchkey/outbox"
	"github.com/latchkey/latchkey/password"
	"github.com/latchkey/latchkey/ssf"
	"github.com/latchkey/latchkey/token"
	"github.com/latchkey/latchkey/verify"
)

// Tuning that is not configuration.
const (
	// auditQueue is how many audit events without a change (failed
	// sign-ins, rejected tokens) may wait to be written before more are
	// dropped.
	auditQueue = 4096
	// hashWait bounds how long a sign-in waits for the hashing gate
	// before it is answered 503 with Retry-After instead of piling up.
	hashWait = 5 * time.Second
	// verifiedCache is how many verified tokens the verifier remembers:
	// about 1 KB each; revocation is still checked on every hit.
	verifiedCache = 10000
)

// App is the server's object graph, built once from a Config. New builds
// it; Start runs its background jobs and its HTTP handler; Serve answers
// requests; Close stops everything in order. The commands that only touch
// the store use New and Close alone.
type App struct {
	Config   Config
	Log      *slog.Logger
	Store    *Store
	Sealer   *keyseal.Sealer
	Ring     *token.KeyRing // nil in HS256 mode
	Revoked  *auth.Revocations
	Audit    *auth.Recorder
	Auth     *auth.Service
	Verifier *verify.Verifier
	// Feed is the revocation feed's SSF transmitter; nil in HS256 mode,
	// where no receiver could check a SET without being able to mint
	// access tokens.
	Feed   *ssf.Service
	Sender *outbox.Sender // made by Start

	tls     *tls.Config  // nil without LATCHKEY_TLS_CERT
	handler http.Handler // made by Start
	metrics http.Handler // made by Start: /metrics alone, for its own listener

	stopJobs    context.CancelFunc // nil until Start
	jobs        sync.WaitGroup
	stopAudit   context.CancelFunc // nil until Start
	auditDone   chan struct{}      // closed when the audit writer has stopped
	stopTrusted func()
	closeOnce   sync.Once
	closeErr    error
}

// New opens the store and builds every part of the server from cfg,
// starting nothing. A *ConfigError is bad configuration (exit status 2);
// any other error a failure at run time.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{Config: cfg, Log: log, stopTrusted: func() {}}
	// The certificate is checked before anything is created, so a bad
	// path leaves no database or key file behind.
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, configErrorf("LATCHKEY_TLS_CERT/LATCHKEY_TLS_KEY: %w", err)
		}
		a.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	db, err := OpenStore(ctx, &a.Config)
	if err != nil {
		return nil, err
	}
	a.Store = db
	// Also in HS256 mode: keys an earlier EdDSA run left in the store are
	// sealed all the same.
	if a.Sealer, _, err = OpenSealer(ctx, &a.Config, db, log); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.build(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if a.Config.Mailer == nil && a.Config.SMTP != nil {
		m, err := mail.New(a.Config.SMTP, a.Config.MailFrom)
		if err != nil {
			db.Close()
			return nil, configErrorf("LATCHKEY_SMTP_URL: %w", err)
		}
		a.Config.Mailer = m
	}
	return a, nil
}

// build makes the key ring, the verifier and the account service.
func (a *App) build(ctx context.Context) error {
	cfg := &a.Config
	// An access token issued just before a revocation or a key rotation
	// lives at most this long after it.
	retain := cfg.AccessTTL + verify.MaxLeeway
	issuer := &token.Issuer{Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.AccessTTL, Secret: cfg.JWTSecret, Now: cfg.Now}
	var keys verify.KeyFunc
	if cfg.JWTAlg == verify.AlgHS256 {
		keys = verify.HMACSecret(cfg.JWTSecret)
	} else {
		ring, err := token.OpenKeyRing(ctx, a.Store, a.Sealer, retain)
		if errors.Is(err, keyseal.ErrOpen) {
			return wrongKEK("the configured key", cfg)
		}
		if err != nil {
			return err
		}
		a.Ring, issuer.Ring, keys = ring, ring, ring.Key
	}
	a.Revoked = auth.NewRevocations(retain)
	v, err := verify.New(verify.Config{
		Issuer:     cfg.Issuer,
		Audience:   cfg.Audience,
		Algorithms: []string{cfg.JWTAlg},
		Keys:       keys,
		Leeway:     Leeway(cfg.AccessTTL),
		// Every token Latchkey issues names its session, and one that
		// names none could never be revoked. It carries a jti too: one
		// without was not minted by token.Issuer.
		RequireSessionID: true,
		RequireTokenID:   true,
		CacheSize:        verifiedCache,
		Now:              cfg.Now,
		IsRevoked: func(_ context.Context, c *verify.Claims) bool {
			return a.Revoked.Revoked(c.SessionID)
		},
	})
	if err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	a.Verifier = v
	if a.Ring != nil {
		signer, err := token.NewSETSigner(cfg.Issuer, a.Ring, cfg.Now)
		if err != nil {
			return fmt.Errorf("SET signer: %w", err)
		}
		a.Feed = &ssf.Service{Store: a.Store, Signer: signer, Changed: a.Revoked.Changed, Issuer: cfg.Issuer,
			Retention: retain, Now: cfg.Now, Log: a.Log}
	}
	return a.buildAuth(issuer)
}

// buildAuth builds the account service: the password hasher, the audit
// recorder, the keys derived from the KEK and the passkeys' relying party.
func (a *App) buildAuth(issuer *token.Issuer) error {
	cfg := &a.Config
	params := cfg.Password
	if params == (password.Params{}) {
		params = password.DefaultParams
	}
	hasher := password.New(params, 0)
	hasher.SetMaxWait(hashWait)
	a.Audit = auth.NewRecorder(a.Store, a.Log, auditQueue)
	a.Audit.Now = cfg.Now
	ak, err := deriveKeys(a.Sealer)
	if err != nil {
		return err
	}
	rp, err := auth.NewWebAuthn(cfg.Issuer, cfg.WebAuthnRPID, cfg.WebAuthnOrigins)
	switch {
	case errors.Is(err, auth.ErrRPIDFromIP):
		// Passkeys are off (logListening says so); nothing else needs
		// a host name.
		rp = nil
	case err != nil:
		return configErrorf("LATCHKEY_WEBAUTHN_RP_ID/LATCHKEY_WEBAUTHN_ORIGINS: %w", err)
	}
	a.Auth = &auth.Service{
		Audit:                a.Audit,
		Store:                a.Store,
		Hasher:               hasher,
		Tokens:               issuer,
		Revoked:              a.Revoked,
		RefreshTTL:           cfg.RefreshTTL,
		RefreshGrace:         cfg.RefreshGrace,
		MaxSessions:          cfg.MaxSessions,
		TokenTTLs:            auth.TokenTTLs{Reset: cfg.ResetTTL, Verify: cfg.VerifyTTL, EmailChange: cfg.EmailChangeTTL},
		CodeKey:              ak.code,
		TOTPSealer:           ak.totp,
		RecoveryKey:          ak.recovery,
		RequireVerifiedEmail: cfg.RequireVerifiedEmail,
		WebAuthn:             rp,
		Logger:               a.Log,
		Now:                  cfg.Now,
	}
	return nil
}

// accountKeys are the account service's keys, each derived from the
// key-encryption key for one use, so that every instance sharing the KEK
// has them and no backup of the database does.
type accountKeys struct {
	code     []byte          // one-time codes' HMAC key
	recovery []byte          // recovery codes' HMAC key
	totp     *keyseal.Sealer // seals TOTP secrets
}

func deriveKeys(s *keyseal.Sealer) (*accountKeys, error) {
	var k accountKeys
	var err error
	if k.code, err = s.DeriveKey(auth.CodeKeyInfo); err != nil {
		return nil, fmt.Errorf("one-time code key: %w", err)
	}
	if k.recovery, err = s.DeriveKey(auth.RecoveryKeyInfo); err != nil {
		return nil, fmt.Errorf("recovery code key: %w", err)
	}
	totpKey, err := s.DeriveKey(auth.TOTPKeyInfo)
	if err != nil {
		return nil, fmt.Errorf("TOTP sealing key: %w", err)
	}
	if k.totp, err = keyseal.New(totpKey); err != nil {
		return nil, fmt.Errorf("TOTP sealer: %w", err)
	}
	return &k, nil
}

// Leeway is the clock skew allowed on our own tokens: the contract's 30 s
// ceiling, but never more than a tenth of the token's life, so that a
// short-lived token (a 2 s TTL in tests) really expires when it should.
func Leeway(accessTTL time.Duration) time.Duration {
	return max(time.Millisecond, min(verify.MaxLeeway, accessTTL/10))
}

// JWKS is the current JSON Web Key Set document: the ring's public keys,
// or none in HS256 mode, where no key may be published.
func (a *App) JWKS() []byte {
	if a.Ring == nil {
		return []byte(`{"keys":[]}`)
	}
	return a.Ring.JWKS()
}

// Close stops the background jobs, then the audit writer, waiting for it
// to write the events queued and the rejections counted but not yet
// written, stops fetching the trusted issuer's keys and closes the store,
// in that order. Requests must be over (Serve returns after they are).
// It may be called more than once.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		if a.stopJobs != nil {
			a.stopJobs()
			a.jobs.Wait()
		}
		if a.stopAudit != nil {
			a.stopAudit()
			<-a.auditDone
		}
		a.stopTrusted()
		if err := a.Store.Close(); err != nil {
			a.closeErr = fmt.Errorf("close store: %w", err)
		}
	})
	return a.closeErr
}
