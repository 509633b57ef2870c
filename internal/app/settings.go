package app

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/keyseal"
	"github.com/latchkey/latchkey/mail"
	"github.com/latchkey/latchkey/verify"
)

// Setting is one row of the configuration table: an environment variable,
// the flag named after it, its default, its one-line doc, the commands
// that take it, and how a value is parsed and checked. Everything that
// reads configuration (flags, environment, --help, the README's table and
// its test) comes from Settings, so a new setting is one new row.
type Setting struct {
	Env      string   // LATCHKEY_ACCESS_TTL
	Default  string   // as a user would write it
	Doc      string   // one line, for --help
	Commands []string // the commands that take it
	// parse checks one value and stores it in c. Its error is prefixed
	// with Env by the caller, so it need not name the setting.
	parse func(c *Config, v string) error
}

// Flag is the flag named after the setting: LATCHKEY_ACCESS_TTL is access-ttl.
func (s Setting) Flag() string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s.Env, "LATCHKEY_")), "_", "-")
}

// Takes reports whether the command (such as "user create") takes s.
func (s Setting) Takes(command string) bool { return slices.Contains(s.Commands, command) }

// Commands are the commands of the latchkey binary.
var Commands = []string{"serve", "migrate", "user create", "user disable", "user verify", "user reset-mfa", "keys rotate", "token inspect", "audit", "mail list", "mail retry", "receiver add", "receiver list", "receiver remove"}

// notReceiverAdd is every command but `receiver add`, whose --audience is
// the receiver's (the aud of the events it gets), not the tokens'.
var notReceiverAdd = slices.DeleteFunc(slices.Clone(Commands), func(c string) bool { return c == "receiver add" })

// Which commands take a setting. Every command opens the store under the
// servers' key-encryption key, and checks the token settings, so that a
// tool and the servers it runs beside agree (token inspect verifies with
// them; migrate refuses what serve would). What only a listening server
// uses is serve's alone.
var serveOnly = []string{"serve"}

// Settings is the configuration table, in the order --help lists it.
var Settings = []Setting{
	{"LATCHKEY_ADDR", "127.0.0.1:8080", "listen address", serveOnly, func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("%q is not host:port", v)
		}
		c.Addr = v
		return nil
	}},
	{"LATCHKEY_METRICS_ADDR", "", "listen address for /metrics alone; unset: /metrics on LATCHKEY_ADDR, to loopback clients only", serveOnly, func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); v != "" && err != nil {
			return fmt.Errorf("%q is not host:port", v)
		}
		c.MetricsAddr = v
		return nil
	}},
	{"LATCHKEY_DATABASE_URL", "sqlite:latchkey.db", "sqlite:PATH or postgres://...", Commands, parseDatabaseURL},
	{"LATCHKEY_ISSUER", "http://localhost:8080", "iss of issued tokens", Commands, func(c *Config, v string) error {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q is not an http(s) URL", v)
		}
		// Mailed links start with it, and a mail's code must be the only
		// six-digit number of its text (mail.FindCodes).
		if len(mail.FindCodes(v)) > 0 {
			return fmt.Errorf("%q holds a six-digit number, which mailed links would carry beside the code", v)
		}
		c.Issuer = v
		return nil
	}},
	{"LATCHKEY_ALLOWED_HOSTS", "", "comma-separated host names requests may name in Host besides the issuer's (and localhost on loopback)", serveOnly, parseAllowedHosts},
	{"LATCHKEY_AUDIENCE", "latchkey", "aud of issued tokens", notReceiverAdd, func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.Audience = v
		return nil
	}},
	{"LATCHKEY_ACCESS_TTL", "15m", "access token lifetime (Go duration)", Commands, duration(time.Second, func(c *Config) *time.Duration { return &c.AccessTTL })},
	{"LATCHKEY_REFRESH_TTL", "720h", "refresh token lifetime, counted afresh at each rotation", Commands, duration(time.Second, func(c *Config) *time.Duration { return &c.RefreshTTL })},
	{"LATCHKEY_REFRESH_GRACE", "10s", "reuse window for concurrent refreshes; 0 = strict", Commands, func(c *Config, v string) error {
		if err := duration(0, func(c *Config) *time.Duration { return &c.RefreshGrace })(c, v); err != nil {
			return err
		}
		if c.RefreshGrace > time.Minute {
			return errors.New("must be at most 1m; a long window weakens reuse detection")
		}
		return nil
	}},
	{"LATCHKEY_RESET_TTL", "30m", "password reset link and code lifetime", serveOnly, tokenTTL(func(c *Config) *time.Duration { return &c.ResetTTL })},
	{"LATCHKEY_VERIFY_TTL", "24h", "email verification link and code lifetime", serveOnly, tokenTTL(func(c *Config) *time.Duration { return &c.VerifyTTL })},
	{"LATCHKEY_EMAIL_CHANGE_TTL", "30m", "email change confirmation link and code lifetime", serveOnly, tokenTTL(func(c *Config) *time.Duration { return &c.EmailChangeTTL })},
	{"LATCHKEY_REQUIRE_VERIFIED_EMAIL", "false", "refuse sign-in (403 email_not_verified) until the address is verified", serveOnly, boolean(func(c *Config) *bool { return &c.RequireVerifiedEmail })},
	{"LATCHKEY_REQUIRE_MFA_FOR_ADMINS", "false", "refuse the admin routes (403 mfa_required) to admin tokens of a sign-in without a second factor", serveOnly, boolean(func(c *Config) *bool { return &c.RequireMFAForAdmins })},
	{"LATCHKEY_MAX_SESSIONS", "100", "live sessions per user; a sign-in past it revokes the least recently used", serveOnly, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a whole number >= 1", v)
		}
		c.MaxSessions = n
		return nil
	}},
	{"LATCHKEY_JWT_ALG", "EdDSA", "EdDSA or HS256", Commands, func(c *Config, v string) error {
		if v != "EdDSA" && v != "HS256" {
			return fmt.Errorf("%q is not EdDSA or HS256", v)
		}
		c.JWTAlg = v
		return nil
	}},
	{"LATCHKEY_JWT_SECRET", "", "HS256 secret, at least 32 bytes (prefer the environment variable to the flag)", Commands, func(c *Config, v string) error {
		// The raw bytes of the setting are the key, as the contract says;
		// whether one is needed depends on LATCHKEY_JWT_ALG (check).
		c.JWTSecret = []byte(v)
		return nil
	}},
	{"LATCHKEY_TLS_CERT", "", "TLS certificate file (PEM)", serveOnly, text(func(c *Config) *string { return &c.TLSCert })},
	{"LATCHKEY_TLS_KEY", "", "TLS private key file (PEM)", serveOnly, text(func(c *Config) *string { return &c.TLSKey })},
	{"LATCHKEY_AUTH_RATE", "60", "POSTs to /api/auth/* per minute per client IP; 0 = off", serveOnly, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number >= 0", v)
		}
		c.AuthRate = n
		return nil
	}},
	{"LATCHKEY_TRUST_PROXY", "false", "take the client IP from X-Forwarded-For", serveOnly, boolean(func(c *Config) *bool { return &c.TrustProxy })},
	{"LATCHKEY_SECRET_KEY", "", "key that encrypts signing keys at rest, at least 32 bytes; unset: a key file PATH.key beside the database (prefer the environment variable to the flag)", Commands, func(c *Config, v string) error {
		if v != "" && len(v) < keyseal.MinSecret {
			return fmt.Errorf("needs at least %d bytes", keyseal.MinSecret)
		}
		c.SecretKey = v
		return nil
	}},
	{"LATCHKEY_AUDIT_RETENTION", "2160h", "audit events older than this are pruned; 0 keeps them", serveOnly, duration(0, func(c *Config) *time.Duration { return &c.AuditRetention })},
	{"LATCHKEY_CORS_ORIGINS", "", "comma-separated origins allowed to call the API from a browser", serveOnly, parseCORSOrigins},
	{"LATCHKEY_WEBAUTHN_RP_ID", "", "passkeys' relying party ID, a host name; unset: the issuer's host", serveOnly, parseRPID},
	{"LATCHKEY_WEBAUTHN_ORIGINS", "", "comma-separated origins passkey ceremonies may come from, on the RP ID or its subdomains; unset: the issuer's origin", serveOnly, func(c *Config, v string) error {
		o, err := parseOrigins(v)
		c.WebAuthnOrigins = o
		return err
	}},
	{"LATCHKEY_TRUSTED_JWKS_URL", "", "JWKS URL of an external issuer to trust on the task routes", serveOnly, text(func(c *Config) *string { return &c.TrustedJWKSURL })},
	{"LATCHKEY_TRUSTED_ISSUER", "", "iss of the trusted external issuer", serveOnly, text(func(c *Config) *string { return &c.TrustedIssuer })},
	{"LATCHKEY_TRUSTED_AUDIENCE", "", "aud of the trusted external issuer", serveOnly, text(func(c *Config) *string { return &c.TrustedAud })},
	{"LATCHKEY_TRUSTED_LEEWAY", "30s", "clock skew allowed on the trusted issuer's exp and nbf, 0s to 30s", serveOnly, func(c *Config, v string) error {
		if err := duration(0, func(c *Config) *time.Duration { return &c.TrustedLeeway })(c, v); err != nil {
			return err
		}
		if c.TrustedLeeway > verify.MaxLeeway {
			return fmt.Errorf("must be at most %s", verify.MaxLeeway)
		}
		return nil
	}},
	{"LATCHKEY_TRUSTED_SECRET", "", "shared HS256 secret of the trusted external issuer, at least 32 bytes", serveOnly, func(c *Config, v string) error {
		if v != "" && len(v) < 32 {
			return errors.New("needs at least 32 bytes")
		}
		c.TrustedSecret = v
		return nil
	}},
	{"LATCHKEY_DB_MAX_CONNS", "10", "PostgreSQL pool size (plus one connection for LISTEN)", Commands, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a whole number >= 1", v)
		}
		c.DBMaxConns = n
		return nil
	}},
	{"LATCHKEY_DB_CONNECT_TIMEOUT", "5s", "PostgreSQL: how long one attempt to connect may take", Commands, duration(100*time.Millisecond, func(c *Config) *time.Duration { return &c.DBConnect })},
	{"LATCHKEY_DB_MAX_CONN_LIFETIME", "1h", "PostgreSQL: connections are replaced after this long", Commands, duration(time.Second, func(c *Config) *time.Duration { return &c.DBLifetime })},
	{"LATCHKEY_DB_MAX_CONN_IDLE_TIME", "30m", "PostgreSQL: idle connections are closed after this long", Commands, duration(time.Second, func(c *Config) *time.Duration { return &c.DBIdleTime })},
	{"LATCHKEY_SMTP_URL", "", "smtps://USER:PASS@HOST:465, smtp://USER:PASS@HOST:587 (STARTTLS required) or smtp://localhost:PORT?tls=none; unset: mail stays in the outbox (prefer the environment variable to the flag)", serveOnly, func(c *Config, v string) error {
		c.SMTP = nil
		if v == "" {
			return nil
		}
		t, err := mail.ParseURL(v)
		if err != nil {
			return err // never quotes the URL, so never the password
		}
		c.SMTP = t
		return nil
	}},
	{"LATCHKEY_MAIL_FROM", "", "sender of mail; unset: Latchkey <no-reply@ISSUER_HOST>", serveOnly, func(c *Config, v string) error {
		if v != "" {
			if _, err := mail.ParseFrom(v); err != nil {
				return err
			}
		}
		c.MailFrom = v
		return nil
	}},
}

// text stores a value as it is.
func text(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = v
		return nil
	}
}

// boolean parses true or false (or another spelling strconv.ParseBool
// takes: 1, 0, TRUE...).
func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(c) = b
		return nil
	}
}

// duration parses a Go duration of at least min.
func duration(min time.Duration, field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			return fmt.Errorf("%q is not a duration (e.g. 15m, 720h)", v)
		case d < min:
			return fmt.Errorf("must be at least %s", min)
		}
		*field(c) = d
		return nil
	}
}

// maxTokenTTL caps the lifetimes of one-time tokens: a mailed link that
// works for longer than a week outlives the mailbox's privacy.
const maxTokenTTL = 168 * time.Hour

// tokenTTL parses the lifetime of a kind of one-time token: from 1m to
// maxTokenTTL.
func tokenTTL(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		if err := duration(time.Minute, field)(c, v); err != nil {
			return err
		}
		if *field(c) > maxTokenTTL {
			return fmt.Errorf("must be at most %s", maxTokenTTL)
		}
		return nil
	}
}

func parseDatabaseURL(c *Config, v string) error {
	c.DatabaseURL, c.SQLitePath, c.PostgresURL = v, "", ""
	switch {
	case strings.HasPrefix(v, "sqlite:"):
		c.SQLitePath = strings.TrimPrefix(strings.TrimPrefix(v, "sqlite:"), "//")
		if c.SQLitePath == "" {
			return errors.New("sqlite: needs a file path")
		}
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		if _, err := url.Parse(v); err != nil {
			// url's message would quote the password.
			return errors.New("not a valid postgres:// URL")
		}
		c.PostgresURL = v
	default:
		return errors.New("must start with sqlite: or postgres://")
	}
	return nil
}

// dnsName is a DNS name: letters, digits, '-', '_' and dots, neither
// starting nor ending with a dot or '-'.
var dnsName = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)

// parseAllowedHosts takes names and addresses without a scheme or port:
// auth.example.com, 192.0.2.1, [2001:db8::1] (or 2001:db8::1).
func parseAllowedHosts(c *Config, v string) error {
	c.AllowedHosts = nil
	for _, h := range strings.Split(v, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		bare := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
		a, err := netip.ParseAddr(bare)
		switch {
		case err == nil && a.Zone() == "" && (bare == h || a.Is6()):
		case bare == h && dnsName.MatchString(h):
		default:
			return fmt.Errorf("%q is not a host name like auth.example.com (no scheme, port or path)", h)
		}
		c.AllowedHosts = append(c.AllowedHosts, strings.ToLower(bare))
	}
	return nil
}

func parseCORSOrigins(c *Config, v string) error {
	o, err := parseOrigins(v)
	c.CORSOrigins = o
	return err
}

// parseOrigins takes comma-separated origins: scheme://host[:port], no
// path, query or user.
func parseOrigins(v string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if u, e := url.Parse(o); e != nil || o == "*" || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return nil, fmt.Errorf("%q is not an origin like https://app.example.com", o)
		}
		out = append(out, o)
	}
	return out, nil
}

// parseRPID takes a host name (no scheme, port or path, not an IP
// address, which browsers refuse as an RP ID), kept in lower case.
func parseRPID(c *Config, v string) error {
	c.WebAuthnRPID = ""
	if v == "" {
		return nil
	}
	if !dnsName.MatchString(v) || net.ParseIP(v) != nil {
		return fmt.Errorf("%q is not a host name like example.com (no scheme, port, path or IP address)", v)
	}
	c.WebAuthnRPID = strings.ToLower(v)
	return nil
}
