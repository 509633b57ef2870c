package app_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/app"
)

// TestDocumentedConfiguration: the configuration tables of the README and
// of the contract (docs/api.md) list exactly the settings of app.Settings,
// each with its default, so that they cannot drift. A row may name several
// settings that share a default.
func TestDocumentedConfiguration(t *testing.T) {
	for _, doc := range []struct{ file, heading string }{
		{"../../README.md", "## Configuration"},
		{"../../docs/api.md", "## Command line and configuration"},
	} {
		t.Run(doc.file, func(t *testing.T) { checkConfigTable(t, doc.file, doc.heading) })
	}
}

func checkConfigTable(t *testing.T, file, heading string) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("no %s section", heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	envRE := regexp.MustCompile("`(LATCHKEY_[A-Z0-9_]+)`")
	documented := map[string]string{} // env -> default
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(line, "| `LATCHKEY_") {
			continue
		}
		def := strings.Trim(strings.TrimSpace(cells[2]), "`")
		for _, m := range envRE.FindAllStringSubmatch(cells[1], -1) {
			if _, dup := documented[m[1]]; dup {
				t.Errorf("%s lists %s twice", file, m[1])
			}
			documented[m[1]] = def
		}
	}
	for _, s := range app.Settings {
		def, ok := documented[s.Env]
		switch {
		case !ok:
			t.Errorf("%s: the configuration table lacks %s", file, s.Env)
		case def != s.Default:
			t.Errorf("%s gives %s the default %q, the code %q", file, s.Env, def, s.Default)
		}
		delete(documented, s.Env)
	}
	for env := range documented {
		t.Errorf("%s documents %s, which is no setting", file, env)
	}
}

// TestSettingsTable: every row can be set from its own default, names a
// command that exists, and has a flag and a doc line.
func TestSettingsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range app.Settings {
		if seen[s.Env] || seen[s.Flag()] {
			t.Errorf("%s appears twice", s.Env)
		}
		seen[s.Env], seen[s.Flag()] = true, true
		if s.Doc == "" || len(s.Commands) == 0 || !strings.HasPrefix(s.Env, "LATCHKEY_") {
			t.Errorf("%s: incomplete row %+v", s.Env, s)
		}
		for _, c := range s.Commands {
			if !strings.Contains(strings.Join(app.Commands, "|")+"|", c+"|") {
				t.Errorf("%s: unknown command %q", s.Env, c)
			}
		}
		if !s.Takes("serve") {
			t.Errorf("%s: serve takes every setting", s.Env)
		}
	}
	d := app.Defaults()
	if d.Addr != "127.0.0.1:8080" || d.SQLitePath != "latchkey.db" || d.AuthRate != 60 || d.JWTAlg != "EdDSA" || len(d.Given) != 0 {
		t.Errorf("Defaults() = %+v", d)
	}
}

// TestLoadTakesOnlyTheCommandsSettings: a setting a command does not take
// is left at its default, even when the environment sets it badly.
func TestLoadTakesOnlyTheCommandsSettings(t *testing.T) {
	env := map[string]string{"LATCHKEY_ADDR": "not an address", "LATCHKEY_ACCESS_TTL": "5m"}
	get := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := app.Load("migrate", get)
	if err != nil {
		t.Fatalf("migrate, which takes no LATCHKEY_ADDR: %v", err)
	}
	if c.Addr != "127.0.0.1:8080" || c.AccessTTL.String() != "5m0s" || !c.Given["LATCHKEY_ACCESS_TTL"] || c.Given["LATCHKEY_ADDR"] {
		t.Errorf("migrate config = %+v", c)
	}
	if _, err := app.Load("serve", get); err == nil || !strings.Contains(err.Error(), "LATCHKEY_ADDR") {
		t.Errorf("serve with a bad LATCHKEY_ADDR: %v", err)
	}
}

// TestAllowedHostsSetting: LATCHKEY_ALLOWED_HOSTS takes names and
// addresses, stored lower-case and IPv6 without brackets; a scheme, a
// port, a path or a wildcard is invalid configuration.
func TestAllowedHostsSetting(t *testing.T) {
	load := func(v string) (app.Config, error) {
		return app.Load("serve", func(k string) (string, bool) { return v, k == "LATCHKEY_ALLOWED_HOSTS" })
	}
	c, err := load(" Auth.Example.com, 192.0.2.1,[2001:DB8::1], 2001:db8::2,, api_1.internal ")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.AllowedHosts, " "); got != "auth.example.com 192.0.2.1 2001:db8::1 2001:db8::2 api_1.internal" {
		t.Errorf("AllowedHosts = %q", got)
	}
	for _, bad := range []string{"https://auth.example.com", "auth.example.com:443", "auth.example.com/", "*", "*.example.com",
		"[192.0.2.1]", "[auth.example.com]", "fe80::1%eth0", ".example.com", "example.com.", "-x", "a b", "[2001:db8::1]:80"} {
		if _, err := load(bad); err == nil || !strings.Contains(err.Error(), "LATCHKEY_ALLOWED_HOSTS") {
			t.Errorf("%q: err %v, want one naming LATCHKEY_ALLOWED_HOSTS", bad, err)
		}
	}
}

// LATCHKEY_TRUSTED_LEEWAY is 30 s unless set, and never more: the
// contract's ceiling on clock skew.
func TestTrustedLeewaySetting(t *testing.T) {
	load := func(v string, set bool) (app.Config, error) {
		return app.Load("serve", func(k string) (string, bool) { return v, set && k == "LATCHKEY_TRUSTED_LEEWAY" })
	}
	if c, err := load("", false); err != nil || c.TrustedLeeway != 30*time.Second {
		t.Fatalf("default: %v %v, want 30s", c.TrustedLeeway, err)
	}
	for v, want := range map[string]time.Duration{"0s": 0, "0": 0, "1s": time.Second, "30s": 30 * time.Second} {
		if c, err := load(v, true); err != nil || c.TrustedLeeway != want {
			t.Errorf("%s: %v %v, want %v", v, c.TrustedLeeway, err, want)
		}
	}
	for _, bad := range []string{"31s", "1m", "-1s", "soon"} {
		if _, err := load(bad, true); err == nil || !strings.Contains(err.Error(), "LATCHKEY_TRUSTED_LEEWAY") {
			t.Errorf("%s: err %v, want one naming the setting", bad, err)
		}
	}
}

// TestTokenTTLSettings: the one-time tokens' lifetimes default to 30m,
// 24h and 30m, take 1m to 168h, and refuse anything else.
func TestTokenTTLSettings(t *testing.T) {
	c, err := app.Load("serve", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if c.ResetTTL != 30*time.Minute || c.VerifyTTL != 24*time.Hour || c.EmailChangeTTL != 30*time.Minute {
		t.Errorf("defaults %v %v %v, want 30m 24h 30m", c.ResetTTL, c.VerifyTTL, c.EmailChangeTTL)
	}
	for _, env := range []string{"LATCHKEY_RESET_TTL", "LATCHKEY_VERIFY_TTL", "LATCHKEY_EMAIL_CHANGE_TTL"} {
		load := func(v string) (app.Config, error) {
			return app.Load("serve", func(k string) (string, bool) { return v, k == env })
		}
		for _, ok := range []string{"1m", "168h"} {
			if _, err := load(ok); err != nil {
				t.Errorf("%s=%s: %v", env, ok, err)
			}
		}
		for _, bad := range []string{"0", "59s", "168h1s", "-30m", "soon"} {
			if _, err := load(bad); err == nil || !strings.Contains(err.Error(), env) {
				t.Errorf("%s=%s: err %v, want one naming it", env, bad, err)
			}
		}
	}
}

func TestMailSettings(t *testing.T) {
	load := func(env map[string]string) (app.Config, error) {
		return app.Load("serve", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}
	c, err := load(nil)
	if err != nil || c.SMTP != nil || c.MailFrom != "Latchkey <no-reply@localhost>" {
		t.Errorf("defaults: SMTP %v, From %q, %v; want no SMTP, the issuer's From", c.SMTP, c.MailFrom, err)
	}
	c, err = load(map[string]string{"LATCHKEY_SMTP_URL": "smtp://lk:pw@smtp.example.com:587", "LATCHKEY_ISSUER": "https://auth.example.com:8443/base"})
	if err != nil || c.SMTP == nil || c.SMTP.Host != "smtp.example.com" || c.SMTP.Port != 587 || c.SMTP.Password != "pw" || c.MailFrom != "Latchkey <no-reply@auth.example.com>" {
		t.Errorf("STARTTLS URL: %+v, From %q, %v", c.SMTP, c.MailFrom, err)
	}
	c, err = load(map[string]string{"LATCHKEY_SMTP_URL": "smtp://localhost:1025?tls=none", "LATCHKEY_MAIL_FROM": "Acme <auth@acme.example>"})
	if err != nil || c.SMTP == nil || c.MailFrom != "Acme <auth@acme.example>" {
		t.Errorf("tls=none to localhost with a From: %+v, %q, %v", c.SMTP, c.MailFrom, err)
	}
	// Only serve takes them.
	c, err = app.Load("migrate", func(k string) (string, bool) { return "smtp://example.com:25?tls=none", k == "LATCHKEY_SMTP_URL" })
	if err != nil || c.SMTP != nil {
		t.Errorf("migrate read LATCHKEY_SMTP_URL: %v, %v", c.SMTP, err)
	}
	for _, env := range []map[string]string{
		{"LATCHKEY_SMTP_URL": "smtp://smtp.example.com:25?tls=none"},
		{"LATCHKEY_SMTP_URL": "smtps://lk:pw@localhost:1025?tls=none"},
		{"LATCHKEY_SMTP_URL": "lmtp://localhost:24"},
		{"LATCHKEY_MAIL_FROM": "not an address"},
	} {
		if _, err := load(env); err == nil {
			t.Errorf("%v: loaded", env)
		}
	}
}
