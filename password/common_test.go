package password

import (
	"context"
	"strings"
	"testing"
)

func TestIsCommon(t *testing.T) {
	for _, pw := range []string{"password", "PASSWORD", "12345678", "trustno1", "ｐａｓｓｗｏｒｄ"} {
		if !IsCommon(pw) {
			t.Errorf("IsCommon(%q) = false", pw)
		}
	}
	for _, pw := range []string{"correct horse battery", "x7#Lq!v9Tz", ""} {
		if IsCommon(pw) {
			t.Errorf("IsCommon(%q) = true", pw)
		}
	}
	if n := strings.Count(commonText, "\n"); n != 11611 {
		t.Errorf("the list has %d lines, want 11611", n)
	}
}

// TestNormalizedHashing: the same password typed as composed or decomposed
// characters, or in full-width forms, is the same password.
func TestNormalizedHashing(t *testing.T) {
	h := New(Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	ctx := context.Background()
	composed, decomposed := "caf\u00e9 au lait", "cafe\u0301 au lait"
	phc, err := h.Hash(ctx, composed)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(ctx, decomposed, phc); err != nil || !ok {
		t.Fatalf("decomposed form refused: %v %v", ok, err)
	}
	phc, _ = h.Hash(ctx, "ｐａｓｓ１２３４")
	if ok, _ := h.Verify(ctx, "pass1234", phc); !ok {
		t.Fatal("full-width form not normalised")
	}
	if ok, _ := h.Verify(ctx, "pass1235", phc); ok {
		t.Fatal("a different password verified")
	}
}
