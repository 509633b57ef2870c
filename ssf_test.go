package latchkey_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// TestNewReceiverSecret: lkr_ and 32 random bytes in base64url, hashed
// with SHA-256, different every time.
func TestNewReceiverSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		secret, hash, err := latchkey.NewReceiverSecret()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(secret, latchkey.ReceiverSecretPrefix))
		sum := sha256.Sum256([]byte(secret))
		if !strings.HasPrefix(secret, "lkr_") || err != nil || len(raw) != 32 || !bytes.Equal(hash, sum[:]) ||
			!bytes.Equal(latchkey.HashReceiverSecret(secret), hash) {
			t.Fatalf("secret %q, hash %x, %v", secret, hash, err)
		}
		if seen[secret] {
			t.Fatal("a secret came twice")
		}
		seen[secret] = true
	}
}

func TestValidateReceiver(t *testing.T) {
	good := "https://notes.example"
	for _, tc := range []struct {
		name, audience string
		bad            []string // the fields at fault
	}{
		{"notes-api", good, nil},
		{strings.Repeat("é", latchkey.MaxReceiverName), strings.Repeat("a", latchkey.MaxReceiverAudience), nil},
		{"Notes API (prod)", "urn:example:notes", nil},
		{"", good, []string{"name"}},
		{"   ", good, []string{"name"}},
		{"notes ", good, []string{"name"}},
		{strings.Repeat("é", latchkey.MaxReceiverName+1), good, []string{"name"}},
		{"a\nb", good, []string{"name"}},
		{"a\tb", good, []string{"name"}},
		{"a\u202eb", good, []string{"name"}},
		{"a\xffb", good, []string{"name"}},
		{"a", "", []string{"audience"}},
		{"a", strings.Repeat("a", latchkey.MaxReceiverAudience+1), []string{"audience"}},
		{"a", good + "\r\n", []string{"audience"}},
		{"a", good + "\x00", []string{"audience"}},
		{"a", good + "\x7f", []string{"audience"}},
		{"", "", []string{"name", "audience"}},
	} {
		err := latchkey.ValidateReceiver(tc.name, tc.audience)
		var got []string
		if e, ok := err.(*latchkey.Error); ok && e.Code == latchkey.EVALIDATION {
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
		} else if err != nil {
			t.Fatalf("%q, %q: %v", tc.name, tc.audience, err)
		}
		if strings.Join(got, ",") != strings.Join(tc.bad, ",") {
			t.Errorf("ValidateReceiver(%.60q, %.60q): fields %v, want %v", tc.name, tc.audience, got, tc.bad)
		}
	}
}

func TestStreamStatusAndInactive(t *testing.T) {
	for _, s := range []latchkey.StreamStatus{latchkey.StreamEnabled, latchkey.StreamPaused, latchkey.StreamDisabled} {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
	if latchkey.StreamStatus("").Valid() || latchkey.StreamStatus("Enabled").Valid() {
		t.Error("an unknown status is valid")
	}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	s := &latchkey.Stream{LastPollAt: t0}
	if s.Inactive(t0.Add(latchkey.StreamInactivity-time.Nanosecond)) || !s.Inactive(t0.Add(latchkey.StreamInactivity)) {
		t.Error("Inactive is not StreamInactivity after the last poll")
	}
}
