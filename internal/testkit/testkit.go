// Package testkit runs Latchkey for tests the way `latchkey serve` runs it:
// built by internal/app from a configuration that differs from the
// production defaults only where a test says so, on 127.0.0.1:0 with a new
// SQLite file. It also holds what the handler and end-to-end tests share:
// an HTTP client for the contract's routes, checks of its answers, a
// settable clock, a goroutine-safe log buffer and the check that no
// secret reaches the log.
package testkit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/password"
	"github.com/latchkey/latchkey/sqldb"
	"github.com/latchkey/latchkey/sqlite"
)

// What tests sign up with, and the issuer and audience of the defaults.
const (
	Issuer   = "http://localhost:8080"
	Audience = "latchkey"
	Password = "correct horse battery"
)

// FastPassword keeps argon2id cheap in tests; production uses
// password.DefaultParams, and the tests of the hashing itself do too.
var FastPassword = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Config is the production configuration (app.Defaults) with a new SQLite
// file in a temporary directory, a loopback address and cheap hashing.
// Tests change what they test, nothing else.
func Config(t testing.TB) app.Config {
	t.Helper()
	cfg := app.Defaults()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "lk.db")
	cfg.SQLitePath = strings.TrimPrefix(cfg.DatabaseURL, "sqlite:")
	cfg.Addr = "127.0.0.1:0"
	cfg.Password = FastPassword
	return cfg
}

// Server is a running app and a client for it.
type Server struct {
	*Client
	App  *app.App
	URL  string
	Logs *LogBuffer
	// Secrets are the passwords and tokens the test used; at the end, none
	// may appear in Logs. The client adds every token it is granted.
	Secrets []string
}

// Start builds cfg through internal/app, starts it and serves it on a
// loopback port, with the log at debug level in Logs. Everything stops at
// the end of the test, and then the log is checked for secrets.
func Start(t testing.TB, cfg app.Config) *Server {
	t.Helper()
	s := &Server{Logs: &LogBuffer{}, Secrets: []string{Password}}
	log := slog.New(slog.NewTextHandler(s.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		t.Fatalf("build the app: %v", err)
	}
	s.App = a
	if err := a.Start(ctx); err != nil {
		a.Close()
		t.Fatalf("start the app: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- a.Serve(serveCtx, ln) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("the server did not stop within 20 s")
		}
		if err := a.Close(); err != nil {
			t.Errorf("close the app: %v", err)
		}
		AssertNoSecrets(t, s.Logs.String(), s.Secrets...)
	})
	scheme, transport := "http", &http.Transport{}
	if cfg.TLSCert != "" {
		scheme, transport.TLSClientConfig = "https", &tls.Config{RootCAs: certPool(t, cfg.TLSCert)}
	}
	s.URL = scheme + "://" + ln.Addr().String()
	s.Client = NewClient(t, s.URL, transport)
	s.Client.FailOnServerError = true
	s.Client.granted = func(tokens ...string) { s.Secrets = append(s.Secrets, tokens...) }
	return s
}

// certPool trusts the certificate in file.
func certPool(t testing.TB, file string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("no certificate in %s", file)
	}
	return pool
}

// LogBuffer is a bytes.Buffer safe for one writer (a server's logger, a
// child's stderr copier) and concurrent readers (the test polling it).
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Clock is a settable time, for Config.Now.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at the real time.
func NewClock() *Clock { return &Clock{now: time.Now().UTC()} }

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Poll calls cond every interval until it returns true or timeout passes,
// and reports whether it did and how long that took. The number of calls is
// bounded by timeout/interval+1.
func Poll(timeout, interval time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(interval)
	}
}

// AssertNoSecrets fails when log holds any of secrets, or the claims or
// signature segment of a JWT among them (the header is not secret: every
// token of a key shares it).
func AssertNoSecrets(t testing.TB, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		needles := []string{s}
		if parts := strings.Split(s, "."); len(parts) == 3 {
			needles = append(needles, parts[1], parts[2])
		}
		for _, n := range needles {
			if len(n) >= 8 && strings.Contains(log, n) {
				t.Errorf("the server log contains a secret used by the test (%.12s...)", n)
			}
		}
	}
}

// SelfSignedTLS makes a certificate for 127.0.0.1 and sets cfg to serve
// HTTPS with it; Start's client trusts it.
func SelfSignedTLS(t testing.TB, cfg *app.Config) {
	t.Helper()
	cfg.TLSCert, cfg.TLSKey, _ = TestCert(t)
}

// SelfSignedCert makes a certificate for 127.0.0.1, ::1 and localhost,
// valid for a day, that signs itself, and a pool that trusts it: for the
// tests of every TLS listener (the server's, the SMTP test server's).
func SelfSignedCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "latchkey test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestCert writes SelfSignedCert's certificate and key in PEM files and
// returns their paths and a pool trusting it.
func TestCert(t testing.TB) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	cert, pool := SelfSignedCert(t)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, pool
}

// NewApp builds cfg through internal/app without starting or serving it,
// for tests of the parts below HTTP; it is closed at the end of the test.
func NewApp(t testing.TB, cfg app.Config) *app.App {
	t.Helper()
	a, err := app.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("build the app: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close the app: %v", err)
		}
	})
	return a
}

// OpenSQLite opens and migrates the SQLite store at path (a new file in a
// temporary directory when path is ""), closed at the end of the test: for
// tests of a part that takes a store, not a server.
func OpenSQLite(t testing.TB, path string) *sqldb.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "lk.db")
	}
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}
