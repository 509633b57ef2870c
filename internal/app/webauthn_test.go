package app_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/testkit"
)

// TestWebAuthnSettings: LATCHKEY_WEBAUTHN_RP_ID takes a host name, kept in
// lower case, and LATCHKEY_WEBAUTHN_ORIGINS origins; unset, both come from
// the issuer when the app is built.
func TestWebAuthnSettings(t *testing.T) {
	load := func(env map[string]string) (app.Config, error) {
		return app.Load("serve", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}
	c, err := load(map[string]string{"LATCHKEY_WEBAUTHN_RP_ID": "Example.COM",
		"LATCHKEY_WEBAUTHN_ORIGINS": " https://auth.example.com, https://example.com:8443 ,"})
	if err != nil {
		t.Fatal(err)
	}
	if c.WebAuthnRPID != "example.com" || !slices.Equal(c.WebAuthnOrigins, []string{"https://auth.example.com", "https://example.com:8443"}) {
		t.Errorf("RP ID %q, origins %q", c.WebAuthnRPID, c.WebAuthnOrigins)
	}
	for _, bad := range []string{"https://example.com", "example.com:443", "example.com/", "192.0.2.1", "*.example.com", "a b"} {
		if _, err := load(map[string]string{"LATCHKEY_WEBAUTHN_RP_ID": bad}); err == nil || !strings.Contains(err.Error(), "LATCHKEY_WEBAUTHN_RP_ID") {
			t.Errorf("RP ID %q: err %v, want one naming LATCHKEY_WEBAUTHN_RP_ID", bad, err)
		}
	}
	for _, bad := range []string{"*", "example.com", "https://example.com/path", "https://u@example.com"} {
		if _, err := load(map[string]string{"LATCHKEY_WEBAUTHN_ORIGINS": bad}); err == nil || !strings.Contains(err.Error(), "LATCHKEY_WEBAUTHN_ORIGINS") {
			t.Errorf("origins %q: err %v, want one naming LATCHKEY_WEBAUTHN_ORIGINS", bad, err)
		}
	}
	// Only serve takes them.
	c, err = app.Load("migrate", func(k string) (string, bool) { return "example.com", k == "LATCHKEY_WEBAUTHN_RP_ID" })
	if err != nil || c.WebAuthnRPID != "" {
		t.Errorf("migrate read LATCHKEY_WEBAUTHN_RP_ID: %q, %v", c.WebAuthnRPID, err)
	}
}

// TestWebAuthnBuilt: the app's relying party is the issuer's by default;
// an origin off the RP ID is bad configuration, refused at start.
func TestWebAuthnBuilt(t *testing.T) {
	a := testkit.NewApp(t, testkit.Config(t))
	if w := a.Auth.WebAuthn; w == nil || w.Config.RPID != "localhost" || !slices.Equal(w.Config.RPOrigins, []string{testkit.Issuer}) {
		t.Fatalf("default relying party %+v", a.Auth.WebAuthn)
	}
	cfg := testkit.Config(t)
	cfg.WebAuthnRPID, cfg.WebAuthnOrigins = "example.com", []string{"https://example.org"}
	_, err := app.New(context.Background(), cfg, nil)
	var ce *app.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "LATCHKEY_WEBAUTHN") {
		t.Fatalf("an origin off the RP ID: %v, want a ConfigError naming the settings", err)
	}
}
