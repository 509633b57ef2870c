package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/httpapi"
	"github.com/latchkey/latchkey/keyseal"
	"github.com/latchkey/latchkey/password"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/sqldb"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/token"
	"github.com/latchkey/latchkey/verify"
)

// watchInterval is how often a server re-reads what other processes
// sharing the store may have changed: revocations and signing keys.
const watchInterval = time.Second

// revocationPoll is how often a server reads the revocations other
// processes made: half a second keeps the contract's 2 s with room to spare
// on a loaded machine, for one indexed range query.
const revocationPoll = 500 * time.Millisecond

// requestTimeout bounds the work of one request: a database that does not
// answer within it (an outage, a failover) gets the client a 503 rather
// than a hang. Sign-ins wait at most hashWait for the hashing gate.
const requestTimeout = 10 * time.Second

// auditQueue is how many audit events without a change (failed sign-ins,
// rejected tokens) may wait to be written before more are dropped.
const auditQueue = 4096

// hashWait bounds how long a sign-in waits for the hashing gate before it
// is answered 503 with Retry-After instead of piling up.
const hashWait = 5 * time.Second

// store is the opened database, SQLite or PostgreSQL.
type store struct {
	*sqldb.DB
	pg *postgres.DB // nil on SQLite
}

// Close closes the store (on PostgreSQL, its pool too).
func (s *store) Close() error {
	if s.pg != nil {
		return s.pg.Close()
	}
	return s.DB.Close()
}

// openStore opens and migrates the store. A SQLite path that cannot be
// opened is invalid configuration (exit 2); a PostgreSQL server that does
// not answer, and a failed migration, are run-time failures (exit 1).
// With mustExist, a missing SQLite file is an error instead of a new
// store: a tool pointed at a mistyped path must not create one there.
func openStore(ctx context.Context, cfg *config, mustExist bool) (*store, error) {
	var s *store
	if cfg.PostgresURL != "" {
		pg, err := postgres.Open(ctx, cfg.PostgresURL, postgres.Options{
			MaxConns:        cfg.DBMaxConns,
			ConnectTimeout:  cfg.DBConnect,
			MaxConnLifetime: cfg.DBLifetime,
			MaxConnIdleTime: cfg.DBIdleTime,
		})
		if err != nil {
			return nil, err
		}
		s = &store{DB: pg.DB, pg: pg}
	} else {
		if mustExist {
			if _, err := os.Stat(cfg.SQLitePath); err != nil {
				return nil, usagef("LATCHKEY_DATABASE_URL: no database at %s (run latchkey serve or migrate first)", cfg.SQLitePath)
			}
		}
		db, err := sqlite.Open(ctx, cfg.SQLitePath)
		if err != nil {
			return nil, usagef("LATCHKEY_DATABASE_URL: %w", err)
		}
		s = &store{DB: db}
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return s, nil
}

// openSealer finds the key-encryption key (KEK) that seals the private
// signing keys at rest and brings the store under it: keys stored in plain
// text by an earlier version are sealed in place, in one transaction, and
// every sealed key must open, so that a wrong KEK stops the command here,
// before anything is signed or stored under it. It returns how many keys
// it sealed.
//
// The KEK is derived from LATCHKEY_SECRET_KEY when that is set, and read
// from the key file beside the database otherwise, which is created (32
// random bytes, mode 0600) when missing, unless the store already holds
// sealed keys: then the file was lost, and a new one could open nothing.
// A KEK that cannot be had or does not fit is invalid configuration.
func openSealer(ctx context.Context, cfg *config, db *store, log *slog.Logger) (*keyseal.Sealer, int, error) {
	var kek []byte
	var source string
	if cfg.SecretKey != "" {
		source = "LATCHKEY_SECRET_KEY"
		k, err := keyseal.FromSecret(cfg.SecretKey)
		if err != nil {
			return nil, 0, usagef("LATCHKEY_SECRET_KEY: %w", err)
		}
		kek = k
	} else {
		path := cfg.keyFile()
		source = "the key file " + path
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			keys, err := db.ListSigningKeys(ctx)
			if err != nil {
				return nil, 0, fmt.Errorf("list signing keys: %w", err)
			}
			for _, k := range keys {
				if token.IsSealed(k) {
					return nil, 0, usagef("no key file at %s and LATCHKEY_SECRET_KEY is not set, but the signing keys in %s are encrypted: restore the key file or set LATCHKEY_SECRET_KEY", path, cfg.database())
				}
			}
		}
		k, created, err := keyseal.LoadOrCreateFile(path)
		if err != nil {
			return nil, 0, usagef("key-encryption key: %w", err)
		}
		if created {
			log.Info("created the key file that encrypts the signing keys at rest; back it up, but not alongside the database", "path", path)
		}
		kek = k
	}
	s, err := keyseal.New(kek)
	if err != nil {
		return nil, 0, usagef("key-encryption key: %w", err)
	}
	n, err := token.SealStoredKeys(ctx, db, s)
	switch {
	case errors.Is(err, keyseal.ErrOpen):
		return nil, 0, wrongKEK(source, cfg)
	case err != nil:
		return nil, 0, fmt.Errorf("seal signing keys: %w", err)
	}
	if n > 0 {
		log.Info("encrypted signing keys stored in plain text by an earlier version", "keys", n)
	}
	return s, n, nil
}

// wrongKEK is the one-line error for a key-encryption key that does not
// open the store's keys (keyseal.ErrOpen says no more than that).
func wrongKEK(source string, cfg *config) error {
	return usagef("the key-encryption key from %s does not open the signing keys in %s: wrong key, or the stored keys were altered", source, cfg.database())
}

// app is the server's object graph, built once from the configuration.
type app struct {
	cfg      *config
	log      *slog.Logger
	store    *store
	sealer   *keyseal.Sealer
	ring     *token.KeyRing // nil in HS256 mode
	revoked  *auth.Revocations
	audit    *auth.Recorder
	auth     *auth.Service
	verifier *verify.Verifier
}

func newApp(ctx context.Context, cfg *config, log *slog.Logger, mustExist bool) (*app, error) {
	db, err := openStore(ctx, cfg, mustExist)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: db}
	// Also in HS256 mode: keys an earlier EdDSA run left in the store are
	// sealed all the same.
	if a.sealer, _, err = openSealer(ctx, cfg, db, log); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.build(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) build(ctx context.Context) error {
	cfg := a.cfg
	// An access token issued just before a revocation or a key rotation
	// lives at most this long after it.
	retain := cfg.AccessTTL + verify.MaxLeeway
	issuer := &token.Issuer{Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.AccessTTL, Secret: cfg.JWTSecret}
	var keys verify.KeyFunc
	if cfg.JWTAlg == verify.AlgHS256 {
		keys = verify.HMACSecret(cfg.JWTSecret)
	} else {
		ring, err := token.OpenKeyRing(ctx, a.store, a.sealer, retain)
		if errors.Is(err, keyseal.ErrOpen) {
			return wrongKEK("the configured key", cfg)
		}
		if err != nil {
			return err
		}
		a.ring, issuer.Ring, keys = ring, ring, ring.Key
	}
	a.revoked = auth.NewRevocations(retain)
	v, err := verify.New(verify.Config{
		Issuer:     cfg.Issuer,
		Audience:   cfg.Audience,
		Algorithms: []string{cfg.JWTAlg},
		Keys:       keys,
		Leeway:     leeway(cfg.AccessTTL),
		CacheSize:  10000, // ~1 KB each; revocation is still checked on every hit
		IsRevoked: func(_ context.Context, c *verify.Claims) bool {
			return a.revoked.Revoked(c.SessionID)
		},
	})
	if err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	a.verifier = v
	hasher := password.New(password.DefaultParams, 0)
	hasher.SetMaxWait(hashWait)
	a.audit = auth.NewRecorder(a.store, a.log, auditQueue)
	a.auth = &auth.Service{
		Audit:        a.audit,
		Store:        a.store,
		Hasher:       hasher,
		Tokens:       issuer,
		Revoked:      a.revoked,
		RefreshTTL:   cfg.RefreshTTL,
		RefreshGrace: cfg.RefreshGrace,
		Logger:       a.log,
	}
	return nil
}

// leeway is the clock skew allowed on our own tokens: the contract's 30 s
// ceiling, but never more than a tenth of the token's life, so that a
// short-lived token (a 2 s TTL in tests) really expires when it should.
func leeway(accessTTL time.Duration) time.Duration {
	return max(time.Millisecond, min(verify.MaxLeeway, accessTTL/10))
}

// trustedVerifier builds the verifier of the trusted external issuer, when
// one is configured: its JWKS (fetched, cached, refreshed in the
// background, re-fetched on an unknown kid) or its shared HS256 secret. Its
// tokens may carry no typ (Better Auth sets none) and no session id.
func trustedVerifier(ctx context.Context, cfg *config, log *slog.Logger) (*verify.Verifier, func(), error) {
	stop := func() {}
	if cfg.TrustedIssuer == "" {
		return nil, stop, nil
	}
	vc := verify.Config{Issuer: cfg.TrustedIssuer, Audience: cfg.TrustedAud, AllowNoType: true}
	if cfg.TrustedSecret != "" {
		vc.Algorithms, vc.Keys = []string{verify.AlgHS256}, verify.HMACSecret([]byte(cfg.TrustedSecret))
	} else {
		keys, stopJWKS, err := verify.RemoteJWKS(ctx, cfg.TrustedJWKSURL, verify.JWKSOptions{
			OnError: func(err error) { log.Warn("fetch the trusted issuer's JWKS", "err", err) },
		})
		if err != nil {
			return nil, stop, usagef("LATCHKEY_TRUSTED_JWKS_URL: %w", err)
		}
		vc.Algorithms, vc.Keys, stop = []string{verify.AlgEdDSA}, keys, stopJWKS
	}
	v, err := verify.New(vc)
	if err != nil {
		stop()
		return nil, func() {}, usagef("trusted issuer: %w", err)
	}
	log.Info("trusting an external issuer on the task routes", "issuer", cfg.TrustedIssuer)
	return v, stop, nil
}

// listen returns the channels that wake the revocation and key watchers
// when another instance changed something: on PostgreSQL, fed by LISTEN
// (reconnecting, and waking both after each reconnect to catch up on what
// was missed); on SQLite nil, and the watchers poll. A wake-up that finds
// one pending is dropped: the read it triggers covers both.
func (a *app) listen(ctx context.Context) (revoked, keys <-chan struct{}) {
	if a.store.pg == nil {
		return nil, nil
	}
	r, k := make(chan struct{}, 1), make(chan struct{}, 1)
	wake := map[string]chan struct{}{sqldb.ChannelRevocations: r, sqldb.ChannelKeys: k}
	go a.store.pg.Listen(ctx, []string{sqldb.ChannelRevocations, sqldb.ChannelKeys}, func(channel string) {
		select {
		case wake[channel] <- struct{}{}:
		default:
		}
	}, a.log)
	return r, k
}

// maxClockSkew is how far an instance's clock may drift from the
// database's before serve warns: revocations are read back by their time
// stamps with 10 s to spare, and tokens carry times too.
const maxClockSkew = 2 * time.Second

// watchClock compares this machine's clock with PostgreSQL's at start and
// then every interval, and warns when they disagree by more than
// maxClockSkew: several instances must keep their clocks in step
// (docs/deploy.md).
func (a *app) watchClock(ctx context.Context, interval time.Duration) {
	if a.store.pg == nil {
		return
	}
	for first := true; ; first = false {
		skew, err := a.store.pg.ClockSkew(ctx)
		switch {
		case err != nil:
			// An outage: the store's own errors say so.
		case skew > maxClockSkew || skew < -maxClockSkew:
			a.log.Warn("this machine's clock disagrees with PostgreSQL's: keep every instance's clock synchronised (NTP), or revocations made on one may be missed by another", "skew", skew.Round(time.Millisecond))
		case first:
			a.log.Info("clock checked against PostgreSQL", "skew", skew.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (a *app) jwks() []byte {
	if a.ring == nil {
		return []byte(`{"keys":[]}`)
	}
	return a.ring.JWKS()
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("serve", getenv)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := parse()
	if err != nil {
		return usageError{err}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	// The certificate is checked before anything is created, so a bad path
	// leaves no database or key file behind.
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return usagef("LATCHKEY_TLS_CERT/LATCHKEY_TLS_KEY: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}

	a, err := newApp(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			a.store.Close()
		}
	}()
	for _, w := range cfg.ignored() {
		log.Warn("setting has no effect on SQLite", "setting", w)
	}

	since, err := a.revoked.Load(ctx, a.store)
	if err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	wakeRevoked, wakeKeys := a.listen(watchCtx)
	go a.watchClock(watchCtx, 10*time.Minute)
	go a.revoked.Watch(watchCtx, a.store, since, revocationPoll, wakeRevoked, log)
	if a.ring != nil {
		go a.ring.Watch(watchCtx, watchInterval, wakeKeys, log)
	}
	go auth.Prune(watchCtx, a.store, auth.Retention{
		Sessions: a.revoked.Retain + time.Hour,
		Audit:    cfg.AuditRetention,
	}, time.Hour, log)
	auditDone := make(chan struct{})
	go func() { a.audit.Run(watchCtx); close(auditDone) }()

	trusted, stopTrusted, err := trustedVerifier(watchCtx, cfg, log)
	if err != nil {
		return err
	}
	defer stopTrusted()
	handler := httpapi.NewServer(httpapi.Config{
		Trusted:       trusted,
		TrustedIssuer: cfg.TrustedIssuer,
		Logger:        log,
		Auth:          a.auth,
		Users:         a.store,
		Tasks:         a.store,
		Admin:         a.store,
		Ready:         a.store,
		Verifier:      a.verifier,
		JWKS:          a.jwks,
		Issuer:        cfg.Issuer,
		TrustProxy:    cfg.TrustProxy,
		AuthRate:      cfg.AuthRate,
		CORSOrigins:   cfg.CORSOrigins,
		// Well inside WriteTimeout, so the 503 still reaches the client.
		RequestTimeout: requestTimeout,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Room for an oversized token to reach the verifier and get the
		// contract's 401 rather than a bare 431.
		MaxHeaderBytes: 256 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		srv.TLSConfig = tlsConfig
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if strings.HasPrefix(cfg.Issuer, "https://") && cfg.TLSCert == "" && !cfg.TrustProxy {
		// Browsers will reach an https issuer, so something must terminate
		// TLS; if nothing does, tokens and cookies cross the network in clear.
		log.Warn("LATCHKEY_ISSUER is https but this server speaks plain HTTP and trusts no proxy: put it behind a TLS-terminating proxy (and set LATCHKEY_TRUST_PROXY) or set LATCHKEY_TLS_CERT/LATCHKEY_TLS_KEY")
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String(),
		"issuer", cfg.Issuer, "alg", cfg.JWTAlg, "database", cfg.database())
	if len(cfg.CORSOrigins) > 0 {
		log.Info("browsers on these origins may call the API (CORS, without credentials)", "origins", strings.Join(cfg.CORSOrigins, ","))
	}

	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// Shutdown lets in-flight requests finish before the store closes.
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	stopWatch()
	<-auditDone // the queued audit events are written before the store closes
	closed = true
	if err := a.store.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	log.Info("stopped")
	return nil
}
