package httpapi_test

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestEmailOneAccount: every spelling of an address is one account
// (package emailkey): case beyond ToLower, compatibility forms, NFC and
// NFD; sign-up says email_taken, sign-in finds the account.
func TestEmailOneAccount(t *testing.T) {
	h := newHarness(t, options{})
	sam := h.signUp("sam@example.com")
	for _, taken := range []string{"ſam@example.com", "SAM@example.com", "ＳＡＭ@example.com", "ſAM@EXAMPLE.COM"} {
		h.Do(req{Method: "POST", Path: "/api/auth/signup", Body: map[string]string{"email": taken, "password": testPassword}}).
			Problem(t, 409, "email_taken")
	}
	sigma := h.signUp("σς@example.gr")
	h.Do(req{Method: "POST", Path: "/api/auth/signup", Body: map[string]string{"email": "σσ@example.gr", "password": testPassword}}).
		Problem(t, 409, "email_taken")
	cafe := h.signUp("café@example.com") // NFC
	h.Do(req{Method: "POST", Path: "/api/auth/signup", Body: map[string]string{"email": "cafe\u0301@example.com", "password": testPassword}}).
		Problem(t, 409, "email_taken")

	for _, tc := range []struct{ spelling, id string }{
		{"ſam@example.com", sam.User.ID},
		{"ＳＡＭ@example.com", sam.User.ID},
		{"ΣΣ@EXAMPLE.GR", sigma.User.ID},
		{"cafe\u0301@example.com", cafe.User.ID}, // NFD
		{"CAFE\u0301@example.com", cafe.User.ID},
	} {
		if g := h.signIn(tc.spelling, testPassword); g.User.ID != tc.id {
			t.Errorf("sign-in as %+q: user %s, want %s", tc.spelling, g.User.ID, tc.id)
		}
	}
	// Stored as given.
	if g := h.signIn("CAFE\u0301@example.com", testPassword); g.User.Email != "café@example.com" {
		t.Errorf("email = %+q, want as signed up", g.User.Email)
	}
	// An address no account can have is an unknown email, never a 5xx.
	h.signInStatus("sam\x00@example.com", testPassword).Problem(t, 401, "invalid_credentials")
}

// TestSignUpInvisibleEmail: an address with a control, invisible,
// space-like, private-use or unassigned character is refused on the email
// field, and nothing is written.
func TestSignUpInvisibleEmail(t *testing.T) {
	h := newHarness(t, options{})
	for _, tc := range []struct{ name, email string }{
		{"zero-width space", "sa\u200bm@example.com"},
		{"zero-width joiner", "sa\u200dm@example.com"},
		{"zero-width non-joiner", "sa\u200cm@example.com"},
		{"word joiner", "sam\u2060@example.com"},
		{"byte order mark", "\ufeffsam@example.com"},
		{"right-to-left override", "\u202esam@example.com"},
		{"left-to-right mark", "sam\u200e@example.com"},
		{"first strong isolate", "sam\u2068@example.com"},
		{"soft hyphen", "sa\u00adm@example.com"},
		{"tag", "sam\U000E0041@example.com"},
		{"variation selector", "sam\ufe0f@example.com"},
		{"combining grapheme joiner", "sa\u034fm@example.com"},
		{"Hangul filler", "\u3164@example.com"},
		{"braille blank", "sa\u2800m@example.com"},
		{"no-break space", "sa\u00a0m@example.com"},
		{"ideographic space", "sa\u3000m@example.com"},
		{"line separator", "sa\u2028m@example.com"},
		{"C1 control", "sa\u0085m@example.com"},
		{"NUL", "sa\x00m@example.com"},
		{"private use", "sa\ue000m@example.com"},
		{"unassigned", "sa\U000E0080m@example.com"},
		{"replacement character", "sa\ufffdm@example.com"},
		{"small commercial at", "sam\ufe6bexample@example.com"}, // its key has two @
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := h.Do(req{Method: "POST", Path: "/api/auth/signup", Body: map[string]string{"email": tc.email, "password": testPassword}}).
				Problem(t, 400, "validation_failed")
			errs, _ := m["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["field"] != "email" || errs[0].(map[string]any)["message"] == "" {
				t.Fatalf("errors = %v, want one on email", errs)
			}
		})
	}
	if _, err := h.store.FindUserByEmail(context.Background(), "sam@example.com"); err == nil {
		t.Fatal("a refused sign-up wrote a user")
	}
	// The visible address is free.
	h.signUp("sam@example.com")
}

// TestAccountThrottleAcrossSpellings: failures under every spelling of an
// address count for its one account.
func TestAccountThrottleAcrossSpellings(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("sam@example.com")
	spellings := []string{"sam@example.com", "SAM@example.com", "ſam@example.com", "ＳＡＭ@example.com",
		"sa\u200bm@example.com", "\u202esam@example.com", "ſAM@EXAMPLE.COM"}
	for i := range 10 {
		h.signInStatus(spellings[i%len(spellings)], "wrong password "+strconv.Itoa(i)).Problem(t, 401, "invalid_credentials")
		h.clock.Advance(time.Second)
	}
	for _, s := range spellings {
		h.signInStatus(s, testPassword).Problem(t, 429, "rate_limited")
	}
	h.clock.Advance(15 * time.Minute)
	h.signIn("ſam@example.com", testPassword)
}
