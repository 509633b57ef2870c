package app

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/mail"
	"github.com/latchkey/latchkey/password"
	"github.com/latchkey/latchkey/verify"
)

// Config is the server's configuration: one field or two per row of
// Settings, parsed and checked, then the few knobs that are not settings.
type Config struct {
	Addr         string
	MetricsAddr  string
	DatabaseURL  string
	SQLitePath   string // set for sqlite:PATH
	PostgresURL  string // set for postgres://...
	Issuer       string
	AllowedHosts []string // lower-case, IPv6 without brackets
	Audience     string
	AccessTTL    time.Duration
	RefreshTTL   time.Duration
	RefreshGrace time.Duration
	MaxSessions  int
	// RequireVerifiedEmail: LATCHKEY_REQUIRE_VERIFIED_EMAIL.
	RequireVerifiedEmail bool
	// RequireMFAForAdmins: LATCHKEY_REQUIRE_MFA_FOR_ADMINS.
	RequireMFAForAdmins bool
	ResetTTL            time.Duration // one-time tokens' lifetimes, by purpose
	VerifyTTL           time.Duration
	EmailChangeTTL      time.Duration
	JWTAlg              string
	JWTSecret           []byte
	TLSCert             string
	TLSKey              string
	AuthRate            int
	TrustProxy          bool
	SecretKey           string
	AuditRetention      time.Duration
	CORSOrigins         []string
	TrustedJWKSURL      string
	TrustedIssuer       string
	TrustedAud          string
	TrustedLeeway       time.Duration // clock skew on the trusted issuer's exp and nbf
	TrustedSecret       string
	DBMaxConns          int
	DBConnect           time.Duration
	DBLifetime          time.Duration
	DBIdleTime          time.Duration
	// SMTP is the parsed LATCHKEY_SMTP_URL; nil: no SMTP, mail stays in
	// the outbox. Its String hides the password.
	SMTP *mail.Transport
	// MailFrom is LATCHKEY_MAIL_FROM, or its default from the issuer.
	MailFrom string
	// WebAuthnRPID and WebAuthnOrigins are the passkeys' relying party
	// as given; empty: the issuer's host and origin (auth.NewWebAuthn).
	WebAuthnRPID    string
	WebAuthnOrigins []string

	// Given names the settings a flag or the environment set (by Env).
	Given map[string]bool

	// Not settings: what the commands and the tests choose.

	// MustExist refuses a missing SQLite file instead of creating a
	// store: a tool pointed at a mistyped path must not make one there.
	MustExist bool
	// Password is the argon2id cost; zero means password.DefaultParams.
	// Tests lower it, as no deployment should.
	Password password.Params
	// Now replaces time.Now for tokens, their verification and the
	// account logic; nil is time.Now.
	Now func() time.Time
	// Registry receives the metrics served at /metrics; nil makes one.
	Registry *prometheus.Registry
	// Mailer delivers the outbox's mail (LATCHKEY_SMTP_URL's transport,
	// or a test's fake). nil sends none: the outbox keeps the mail for
	// `latchkey mail list` until it is given up a day later.
	Mailer latchkey.Mailer
}

// ConfigError is invalid configuration or usage, as opposed to a failure
// at run time: the command exits with status 2.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// configErrorf returns a *ConfigError with a formatted message.
func configErrorf(format string, args ...any) error {
	return &ConfigError{fmt.Errorf(format, args...)}
}

// Defaults is the configuration with every setting at its default.
func Defaults() Config {
	c, err := Load("serve", func(string) (string, bool) { return "", false })
	if err != nil {
		panic("app: the defaults do not parse: " + err.Error())
	}
	return c
}

// Load parses the settings that command takes, each from get (which
// reports false when neither a flag nor the environment gave it: then the
// default holds), and checks them together. The settings the command does
// not take keep their defaults. Every error names the setting at fault.
func Load(command string, get func(env string) (string, bool)) (Config, error) {
	c := Config{Given: make(map[string]bool)}
	for _, s := range Settings {
		v, ok := s.Default, false
		if s.Takes(command) {
			if gv, given := get(s.Env); given {
				v, ok = gv, true
			}
		}
		if err := s.parse(&c, v); err != nil {
			return Config{}, &ConfigError{fmt.Errorf("%s: %w", s.Env, err)}
		}
		if ok {
			c.Given[s.Env] = true
		}
	}
	if err := c.check(); err != nil {
		return Config{}, &ConfigError{err}
	}
	return c, nil
}

// check applies the rules that join several settings.
func (c *Config) check() error {
	// Every instance must open the signing keys the others sealed, and
	// there is no database file to keep a key file beside.
	if c.PostgresURL != "" && c.SecretKey == "" {
		return errors.New("LATCHKEY_SECRET_KEY: required with PostgreSQL: every instance must share the key that encrypts the signing keys at rest")
	}
	switch c.JWTAlg {
	case verify.AlgEdDSA:
		if len(c.JWTSecret) > 0 {
			return errors.New("LATCHKEY_JWT_SECRET: set, but LATCHKEY_JWT_ALG is EdDSA; set LATCHKEY_JWT_ALG=HS256 to use it")
		}
	case verify.AlgHS256:
		if len(c.JWTSecret) < 32 {
			return errors.New("LATCHKEY_JWT_SECRET: HS256 needs a secret of at least 32 bytes")
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("LATCHKEY_TLS_CERT and LATCHKEY_TLS_KEY: set both or neither")
	}
	if c.MetricsAddr != "" && c.MetricsAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
		return errors.New("LATCHKEY_METRICS_ADDR: must differ from LATCHKEY_ADDR; unset, the metrics are served there to loopback clients")
	}
	if c.MailFrom == "" {
		// The default needs a host that makes an address; it matters
		// only when mail is sent.
		from, err := mail.DefaultFrom(c.Issuer)
		if err != nil && c.SMTP != nil {
			return fmt.Errorf("LATCHKEY_MAIL_FROM: %w", err)
		}
		c.MailFrom = from
	}
	return c.checkTrusted()
}

// checkTrusted checks the settings of the trusted external issuer: all
// or none.
func (c *Config) checkTrusted() error {
	if c.TrustedJWKSURL == "" && c.TrustedSecret == "" && c.TrustedIssuer == "" && c.TrustedAud == "" {
		return nil
	}
	switch {
	case (c.TrustedJWKSURL == "") == (c.TrustedSecret == ""):
		return errors.New("LATCHKEY_TRUSTED_JWKS_URL or LATCHKEY_TRUSTED_SECRET: set exactly one to trust an external issuer")
	case c.TrustedIssuer == "" || c.TrustedAud == "":
		return errors.New("LATCHKEY_TRUSTED_ISSUER and LATCHKEY_TRUSTED_AUDIENCE: both are required to trust an external issuer")
	case c.TrustedIssuer == c.Issuer:
		return errors.New("LATCHKEY_TRUSTED_ISSUER: must differ from LATCHKEY_ISSUER")
	case c.TrustedSecret != "" && subtle.ConstantTimeCompare([]byte(c.TrustedSecret), c.JWTSecret) == 1:
		// The external issuer could then sign tokens that verify as
		// Latchkey's own, with any role.
		return errors.New("LATCHKEY_TRUSTED_SECRET: must differ from LATCHKEY_JWT_SECRET, or the external issuer could mint Latchkey's own tokens")
	}
	if c.TrustedJWKSURL != "" {
		if err := verify.CheckJWKSURL(c.TrustedJWKSURL); err != nil {
			return fmt.Errorf("LATCHKEY_TRUSTED_JWKS_URL: %w", err)
		}
	}
	return nil
}

// keyFile is where the key-encryption key of the signing keys lives when
// LATCHKEY_SECRET_KEY is not set: beside the SQLite database. (PostgreSQL
// requires LATCHKEY_SECRET_KEY.)
func (c *Config) keyFile() string { return c.SQLitePath + ".key" }

// Ignored names the settings given that have no effect with the chosen
// database, so that nobody believes they hold.
func (c *Config) Ignored() []string {
	if c.PostgresURL != "" {
		return nil
	}
	var out []string
	for _, env := range []string{
		"LATCHKEY_DB_MAX_CONNS",
		"LATCHKEY_DB_CONNECT_TIMEOUT",
		"LATCHKEY_DB_MAX_CONN_LIFETIME",
		"LATCHKEY_DB_MAX_CONN_IDLE_TIME",
	} {
		if c.Given[env] {
			out = append(out, env)
		}
	}
	return out
}

// Database names the store for messages and logs, without credentials.
func (c *Config) Database() string {
	if c.PostgresURL == "" {
		return c.SQLitePath
	}
	u, err := url.Parse(c.PostgresURL)
	if err != nil {
		return "PostgreSQL"
	}
	return "postgres://" + u.Host + u.Path
}
