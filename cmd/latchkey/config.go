package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/keyseal"
	"github.com/latchkey/latchkey/verify"
)

// setting is one row of the contract's configuration table: an environment
// variable and the serve flag named after it.
type setting struct {
	env, def, usage string
}

func (s setting) flag() string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s.env, "LATCHKEY_")), "_", "-")
}

var settings = []setting{
	{"LATCHKEY_ADDR", "127.0.0.1:8080", "listen address"},
	{"LATCHKEY_DATABASE_URL", "sqlite:latchkey.db", "sqlite:PATH or postgres://..."},
	{"LATCHKEY_ISSUER", "http://localhost:8080", "iss of issued tokens"},
	{"LATCHKEY_AUDIENCE", "latchkey", "aud of issued tokens"},
	{"LATCHKEY_ACCESS_TTL", "15m", "access token lifetime (Go duration)"},
	{"LATCHKEY_REFRESH_TTL", "720h", "refresh token lifetime, counted afresh at each rotation"},
	{"LATCHKEY_REFRESH_GRACE", "10s", "reuse window for concurrent refreshes; 0 = strict"},
	{"LATCHKEY_JWT_ALG", "EdDSA", "EdDSA or HS256"},
	{"LATCHKEY_JWT_SECRET", "", "HS256 secret, at least 32 bytes (prefer the environment variable to the flag)"},
	{"LATCHKEY_TLS_CERT", "", "TLS certificate file (PEM)"},
	{"LATCHKEY_TLS_KEY", "", "TLS private key file (PEM)"},
	{"LATCHKEY_AUTH_RATE", "60", "POSTs to /api/auth/* per minute per client IP; 0 = off"},
	{"LATCHKEY_TRUST_PROXY", "false", "take the client IP from X-Forwarded-For"},
	{"LATCHKEY_SECRET_KEY", "", "key that encrypts signing keys at rest, at least 32 bytes; unset: a key file PATH.key beside the database (prefer the environment variable to the flag)"},
	{"LATCHKEY_AUDIT_RETENTION", "2160h", "audit events older than this are pruned"},
	{"LATCHKEY_CORS_ORIGINS", "", "comma-separated origins allowed to call the API from a browser"},
	{"LATCHKEY_TRUSTED_JWKS_URL", "", "JWKS URL of an external issuer to trust on the task routes"},
	{"LATCHKEY_TRUSTED_ISSUER", "", "iss of the trusted external issuer"},
	{"LATCHKEY_TRUSTED_AUDIENCE", "", "aud of the trusted external issuer"},
	{"LATCHKEY_TRUSTED_SECRET", "", "shared HS256 secret of the trusted external issuer"},
	{"LATCHKEY_DB_MAX_CONNS", "", "PostgreSQL pool size (default 10, plus one connection for LISTEN)"},
	{"LATCHKEY_DB_CONNECT_TIMEOUT", "5s", "PostgreSQL: how long one attempt to connect may take"},
	{"LATCHKEY_DB_MAX_CONN_LIFETIME", "1h", "PostgreSQL: connections are replaced after this long"},
	{"LATCHKEY_DB_MAX_CONN_IDLE_TIME", "30m", "PostgreSQL: idle connections are closed after this long"},
}

// config is the parsed and validated configuration.
type config struct {
	Addr           string
	DatabaseURL    string
	SQLitePath     string // set for sqlite:PATH
	PostgresURL    string // set for postgres://...
	Issuer         string
	Audience       string
	AccessTTL      time.Duration
	RefreshTTL     time.Duration
	RefreshGrace   time.Duration
	JWTAlg         string
	JWTSecret      []byte
	TLSCert        string
	TLSKey         string
	AuthRate       int
	TrustProxy     bool
	SecretKey      string
	AuditRetention time.Duration
	CORSOrigins    []string
	TrustedJWKSURL string
	TrustedIssuer  string
	TrustedAud     string
	TrustedSecret  string
	DBMaxConns     int
	DBConnect      time.Duration
	DBLifetime     time.Duration
	DBIdleTime     time.Duration

	set map[string]bool // the settings given by flag or environment
}

// configFlags registers every setting on fs. After parsing, a flag given on
// the command line wins over the environment, which wins over the default.
// Environment values are not made flag defaults, so that -h never prints a
// secret. It returns a function that validates what was parsed.
func configFlags(fs *flag.FlagSet, getenv func(string) string) func() (*config, error) {
	vals := make(map[string]*string, len(settings))
	for _, s := range settings {
		vals[s.env] = fs.String(s.flag(), s.def, s.usage+" ("+s.env+")")
	}
	return func() (*config, error) {
		given := make(map[string]bool)
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		byEnv := make(map[string]setting, len(settings))
		for _, s := range settings {
			byEnv[s.env] = s
		}
		set := make(map[string]bool)
		get := func(env string) string {
			s := byEnv[env]
			if given[s.flag()] {
				set[env] = true
				return *vals[env]
			}
			if v := getenv(env); v != "" {
				set[env] = true
				return v
			}
			return s.def
		}
		c, err := parseConfig(get)
		if err != nil {
			return nil, err
		}
		c.set = set
		return c, nil
	}
}

// parseConfig validates settings; every error names the setting at fault.
func parseConfig(get func(string) string) (*config, error) {
	c := &config{
		Addr:           get("LATCHKEY_ADDR"),
		DatabaseURL:    get("LATCHKEY_DATABASE_URL"),
		Issuer:         get("LATCHKEY_ISSUER"),
		Audience:       get("LATCHKEY_AUDIENCE"),
		JWTAlg:         get("LATCHKEY_JWT_ALG"),
		TLSCert:        get("LATCHKEY_TLS_CERT"),
		TLSKey:         get("LATCHKEY_TLS_KEY"),
		SecretKey:      get("LATCHKEY_SECRET_KEY"),
		TrustedJWKSURL: get("LATCHKEY_TRUSTED_JWKS_URL"),
		TrustedIssuer:  get("LATCHKEY_TRUSTED_ISSUER"),
		TrustedAud:     get("LATCHKEY_TRUSTED_AUDIENCE"),
		TrustedSecret:  get("LATCHKEY_TRUSTED_SECRET"),
	}
	var err error
	dur := func(env string, min time.Duration) time.Duration {
		if err != nil {
			return 0
		}
		d, e := time.ParseDuration(get(env))
		switch {
		case e != nil:
			err = fmt.Errorf("%s: %q is not a duration (e.g. 15m, 720h)", env, get(env))
		case d < min:
			err = fmt.Errorf("%s: must be at least %s", env, min)
		}
		return d
	}
	c.AccessTTL = dur("LATCHKEY_ACCESS_TTL", time.Second)
	c.RefreshTTL = dur("LATCHKEY_REFRESH_TTL", time.Second)
	c.RefreshGrace = dur("LATCHKEY_REFRESH_GRACE", 0)
	c.AuditRetention = dur("LATCHKEY_AUDIT_RETENTION", 0)
	c.DBConnect = dur("LATCHKEY_DB_CONNECT_TIMEOUT", 100*time.Millisecond)
	c.DBLifetime = dur("LATCHKEY_DB_MAX_CONN_LIFETIME", time.Second)
	c.DBIdleTime = dur("LATCHKEY_DB_MAX_CONN_IDLE_TIME", time.Second)
	if err != nil {
		return nil, err
	}
	if c.RefreshGrace > time.Minute {
		return nil, errors.New("LATCHKEY_REFRESH_GRACE: must be at most 1m; a long window weakens reuse detection")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return nil, fmt.Errorf("LATCHKEY_ADDR: %q is not host:port", c.Addr)
	}
	switch {
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		c.SQLitePath = strings.TrimPrefix(strings.TrimPrefix(c.DatabaseURL, "sqlite:"), "//")
		if c.SQLitePath == "" {
			return nil, errors.New("LATCHKEY_DATABASE_URL: sqlite: needs a file path")
		}
	case strings.HasPrefix(c.DatabaseURL, "postgres://"), strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		c.PostgresURL = c.DatabaseURL
		if _, e := url.Parse(c.PostgresURL); e != nil {
			// url's message would quote the password.
			return nil, errors.New("LATCHKEY_DATABASE_URL: not a valid postgres:// URL")
		}
		// Every instance must open the signing keys the others sealed,
		// and there is no database file to keep a key file beside.
		if get("LATCHKEY_SECRET_KEY") == "" {
			return nil, errors.New("LATCHKEY_SECRET_KEY: required with PostgreSQL: every instance must share the key that encrypts the signing keys at rest")
		}
	default:
		return nil, fmt.Errorf("LATCHKEY_DATABASE_URL: must start with sqlite: or postgres://")
	}
	if u, e := url.Parse(c.Issuer); e != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("LATCHKEY_ISSUER: %q is not an http(s) URL", c.Issuer)
	}
	if c.Audience == "" {
		return nil, errors.New("LATCHKEY_AUDIENCE: must not be empty")
	}
	switch c.JWTAlg {
	case "EdDSA":
		if get("LATCHKEY_JWT_SECRET") != "" {
			return nil, errors.New("LATCHKEY_JWT_SECRET: set, but LATCHKEY_JWT_ALG is EdDSA; set LATCHKEY_JWT_ALG=HS256 to use it")
		}
	case "HS256":
		// The raw bytes of the setting are the key, as the contract says.
		c.JWTSecret = []byte(get("LATCHKEY_JWT_SECRET"))
		if len(c.JWTSecret) < 32 {
			return nil, errors.New("LATCHKEY_JWT_SECRET: HS256 needs a secret of at least 32 bytes")
		}
	default:
		return nil, fmt.Errorf("LATCHKEY_JWT_ALG: %q is not EdDSA or HS256", c.JWTAlg)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, errors.New("LATCHKEY_TLS_CERT and LATCHKEY_TLS_KEY: set both or neither")
	}
	if c.AuthRate, err = strconv.Atoi(get("LATCHKEY_AUTH_RATE")); err != nil || c.AuthRate < 0 {
		return nil, fmt.Errorf("LATCHKEY_AUTH_RATE: %q is not a whole number >= 0", get("LATCHKEY_AUTH_RATE"))
	}
	if c.TrustProxy, err = strconv.ParseBool(get("LATCHKEY_TRUST_PROXY")); err != nil {
		return nil, fmt.Errorf("LATCHKEY_TRUST_PROXY: %q is not true or false", get("LATCHKEY_TRUST_PROXY"))
	}
	for _, o := range strings.Split(get("LATCHKEY_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if u, e := url.Parse(o); e != nil || o == "*" || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return nil, fmt.Errorf("LATCHKEY_CORS_ORIGINS: %q is not an origin like https://app.example.com", o)
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	if v := get("LATCHKEY_DB_MAX_CONNS"); v != "" {
		if c.DBMaxConns, err = strconv.Atoi(v); err != nil || c.DBMaxConns < 1 {
			return nil, fmt.Errorf("LATCHKEY_DB_MAX_CONNS: %q is not a whole number >= 1", v)
		}
	}
	if c.SecretKey != "" && len(c.SecretKey) < keyseal.MinSecret {
		return nil, fmt.Errorf("LATCHKEY_SECRET_KEY: needs at least %d bytes", keyseal.MinSecret)
	}
	if c.TrustedSecret != "" && len(c.TrustedSecret) < 32 {
		return nil, errors.New("LATCHKEY_TRUSTED_SECRET: needs at least 32 bytes")
	}
	if c.TrustedJWKSURL != "" || c.TrustedSecret != "" || c.TrustedIssuer != "" || c.TrustedAud != "" {
		switch {
		case (c.TrustedJWKSURL == "") == (c.TrustedSecret == ""):
			return nil, errors.New("LATCHKEY_TRUSTED_JWKS_URL or LATCHKEY_TRUSTED_SECRET: set exactly one to trust an external issuer")
		case c.TrustedIssuer == "" || c.TrustedAud == "":
			return nil, errors.New("LATCHKEY_TRUSTED_ISSUER and LATCHKEY_TRUSTED_AUDIENCE: both are required to trust an external issuer")
		case c.TrustedIssuer == c.Issuer:
			return nil, errors.New("LATCHKEY_TRUSTED_ISSUER: must differ from LATCHKEY_ISSUER")
		}
		if c.TrustedJWKSURL != "" {
			if err := verify.CheckJWKSURL(c.TrustedJWKSURL); err != nil {
				return nil, fmt.Errorf("LATCHKEY_TRUSTED_JWKS_URL: %w", err)
			}
		}
	}
	return c, nil
}

// keyFile is where the key-encryption key of the signing keys lives when
// LATCHKEY_SECRET_KEY is not set: beside the SQLite database. (PostgreSQL
// requires LATCHKEY_SECRET_KEY.)
func (c *config) keyFile() string { return c.SQLitePath + ".key" }

// ignored names the settings given that have no effect with the chosen
// database, so that nobody believes they hold.
func (c *config) ignored() []string {
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
		if c.set[env] {
			out = append(out, env)
		}
	}
	return out
}

// database names the store for messages and logs, without credentials.
func (c *config) database() string {
	if c.PostgresURL == "" {
		return c.SQLitePath
	}
	u, err := url.Parse(c.PostgresURL)
	if err != nil {
		return "PostgreSQL"
	}
	return "postgres://" + u.Host + u.Path
}
