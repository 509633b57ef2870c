package latchkey_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestTokenPurposeValid(t *testing.T) {
	for _, p := range []latchkey.TokenPurpose{latchkey.PurposeReset, latchkey.PurposeVerifyEmail, latchkey.PurposeEmailChange} {
		if !p.Valid() {
			t.Errorf("%q not valid", p)
		}
	}
	for _, p := range []latchkey.TokenPurpose{"", "Reset", "email_changed", "notice"} {
		if p.Valid() {
			t.Errorf("%q valid", p)
		}
	}
}

func TestOneTimeTokenLive(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tok := latchkey.OneTimeToken{ExpiresAt: now.Add(time.Minute), Attempts: latchkey.MaxCodeAttempts - 1}
	if !tok.Live(now) {
		t.Fatal("a fresh token is not live")
	}
	for name, dead := range map[string]latchkey.OneTimeToken{
		"expired":     {ExpiresAt: now},
		"used":        {ExpiresAt: now.Add(time.Minute), UsedAt: now},
		"wrong codes": {ExpiresAt: now.Add(time.Minute), Attempts: latchkey.MaxCodeAttempts},
	} {
		if dead.Live(now) {
			t.Errorf("%s token is live", name)
		}
	}
}

func TestWithTokenChange(t *testing.T) {
	ctx := context.Background()
	if latchkey.TokenChangeFrom(ctx) != nil {
		t.Fatal("a change from a bare context")
	}
	ch := &latchkey.TokenChange{KillUser: "u"}
	if latchkey.TokenChangeFrom(latchkey.WithTokenChange(ctx, ch)) != ch {
		t.Fatal("the change did not round-trip")
	}
	if latchkey.TokenChangeFrom(latchkey.WithTokenChange(latchkey.WithTokenChange(ctx, ch), nil)) != nil {
		t.Fatal("a nil change does not mask an outer one")
	}
}
