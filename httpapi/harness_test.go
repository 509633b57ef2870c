package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"net/url"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testkit"
)

const (
	testIssuer   = testkit.Issuer
	testAudience = testkit.Audience
	testPassword = testkit.Password
)

// req, grant and response are the test kit's request, token response and answer.
type (
	req      = testkit.Request
	grant    = testkit.Grant
	response = testkit.Response
)

// options are the settings a handler test changes from the production
// defaults (testkit.Config). The zero value is strict refresh (no grace
// window) and no per-IP limit, which most tests here assume.
type options struct {
	trustedJWKS     string // the external issuer's JWKS URL, if any
	trustedSecret   string // or its shared HS256 secret
	trustedIssuer   string
	trustedLeeway   *time.Duration // LATCHKEY_TRUSTED_LEEWAY, when not the default
	grace           time.Duration
	secret          []byte // HS256 mode when set
	tls             bool
	rate            int      // LATCHKEY_AUTH_RATE
	proxy           bool     // LATCHKEY_TRUST_PROXY
	cors            []string // LATCHKEY_CORS_ORIGINS, unchecked
	maxSessions     int      // LATCHKEY_MAX_SESSIONS; 0 keeps the default
	allowedHosts    []string // LATCHKEY_ALLOWED_HOSTS, unchecked
	metricsAddr     string   // LATCHKEY_METRICS_ADDR: then /metrics is not served here
	requireVerified bool     // LATCHKEY_REQUIRE_VERIFIED_EMAIL
	adminMFA        bool     // LATCHKEY_REQUIRE_MFA_FOR_ADMINS
	postgres        bool     // a fresh PostgreSQL database (internal/pgtest) instead of a SQLite file
}

// harness is the real server, built by internal/app as serve builds it,
// on a loopback port with a new SQLite file (or, with options.postgres, a
// new schema of the package's PostgreSQL cluster) and a settable clock.
type harness struct {
	*testkit.Server
	t        testing.TB
	clock    *testkit.Clock
	store    *app.Store // the server's own, for checks behind the API's back
	postgres bool       // the server runs on PostgreSQL
	dbPath   string     // the SQLite file; "" on PostgreSQL (see sqliteFile)
	codes    []string   // TOTP codes the test used (h.code): never in the log
}

// pgSecretKey is LATCHKEY_SECRET_KEY on PostgreSQL, where it is required.
const pgSecretKey = "httpapi-test-secret-key-of-32-bytes-or-more"

// TestMain stops the package's PostgreSQL cluster, if a test started it.
func TestMain(m *testing.M) { pgtest.Main(m) }

// engines are the databases forEachEngine runs a test on, by subtest name.
var engines = []struct {
	name     string
	postgres bool
}{{"sqlite", false}, {"postgres", true}}

// forEachEngine runs body as the subtests sqlite and postgres, each on a
// server of its own (newHarness with opts, options.postgres set to match).
// The two subtests run in parallel with each other, so body must not call
// t.Setenv or t.Parallel. On PostgreSQL each test has a fresh schema of the
// package's one cluster; without PostgreSQL installed the postgres subtest
// skips, and fails under CI=true (internal/pgtest). A second harness inside
// body should use options{postgres: h.postgres}.
func forEachEngine(t *testing.T, opts options, body func(t *testing.T, h *harness)) {
	t.Helper()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			o := opts
			o.postgres = e.postgres
			body(t, newHarness(t, o))
		})
	}
}

// sqliteFile is the server's SQLite file, for a check that reads it behind
// the server's back; on PostgreSQL it skips the test.
func (h *harness) sqliteFile() string {
	h.t.Helper()
	if h.postgres {
		h.t.Skip("reads the SQLite file: not run on PostgreSQL")
	}
	return h.dbPath
}

func newHarness(t testing.TB, opts options) *harness {
	t.Helper()
	cfg := testkit.Config(t)
	clk := testkit.NewClock()
	cfg.Now = clk.Now
	cfg.RefreshGrace = opts.grace
	cfg.AuthRate = opts.rate
	cfg.TrustProxy = opts.proxy
	cfg.CORSOrigins = opts.cors
	if opts.maxSessions > 0 {
		cfg.MaxSessions = opts.maxSessions
	}
	cfg.AllowedHosts = opts.allowedHosts
	cfg.MetricsAddr = opts.metricsAddr
	cfg.RequireVerifiedEmail = opts.requireVerified
	cfg.RequireMFAForAdmins = opts.adminMFA
	if opts.secret != nil {
		cfg.JWTAlg, cfg.JWTSecret = "HS256", opts.secret
	}
	var dbPassword string // the PostgreSQL password: never in the log
	if opts.postgres {
		dbURL := pgtest.Shared(t).URL(t)
		cfg.DatabaseURL, cfg.PostgresURL, cfg.SQLitePath = dbURL, dbURL, ""
		cfg.SecretKey = pgSecretKey
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		dbPassword, _ = u.User.Password()
	}
	if opts.tls {
		testkit.SelfSignedTLS(t, &cfg)
	}
	if opts.trustedIssuer != "" {
		cfg.TrustedIssuer, cfg.TrustedAud = opts.trustedIssuer, extAudience
		cfg.TrustedJWKSURL, cfg.TrustedSecret = opts.trustedJWKS, opts.trustedSecret
		if opts.trustedLeeway != nil {
			cfg.TrustedLeeway = *opts.trustedLeeway
		}
	}
	srv := testkit.Start(t, cfg)
	h := &harness{Server: srv, t: t, clock: clk, store: srv.App.Store,
		postgres: opts.postgres, dbPath: cfg.SQLitePath}
	if dbPassword != "" {
		srv.Secrets = append(srv.Secrets, dbPassword, pgSecretKey)
	}
	t.Cleanup(func() { testkit.AssertNoCodes(t, srv.Logs.String(), h.codes...) })
	return h
}

func (h *harness) signUp(email string) grant {
	h.t.Helper()
	return h.SignUp(email, testPassword, "Test")
}

func (h *harness) signIn(email, pw string) grant {
	h.t.Helper()
	return h.SignIn(email, pw)
}

// signingKey returns the ring's current private key and kid, for forging
// tokens in tests.
func (h *harness) signingKey() (string, ed25519.PrivateKey) {
	h.t.Helper()
	keys, err := h.App.Store.ListSigningKeys(context.Background())
	if err != nil || len(keys) == 0 {
		h.t.Fatalf("signing keys: %v", err)
	}
	priv, err := h.App.Sealer.Open(keys[0].PrivateKey, []byte(keys[0].ID))
	if err != nil {
		h.t.Fatalf("open signing key: %v", err)
	}
	return keys[0].ID, ed25519.PrivateKey(priv)
}
