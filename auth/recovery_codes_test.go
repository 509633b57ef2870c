package auth_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
)

func TestNormalizeRecoveryCode(t *testing.T) {
	const want = "0123456789ABCDEF"
	for _, in := range []string{
		"0123-4567-89AB-CDEF", "0123456789ABCDEF", "0123456789abcdef", "0123-4567-89ab-cdef",
		"o123-4567-89AB-CDEF", "O123456789abcdef", // O reads as 0
		"-0123456789abcdef-", "01-23-45-67-89-ab-cd-ef",
	} {
		if got, ok := auth.NormalizeRecoveryCode(in); !ok || got != want {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, ok := auth.NormalizeRecoveryCode("ILil-0000-0000-0000"); !ok || got != "1111000000000000" {
		t.Errorf("I and L read as 1: got %q, %v", got, ok)
	}
	for _, in := range []string{
		"", "0123-4567-89AB-CDE", "0123-4567-89AB-CDEF0", " 0123-4567-89AB-CDEF", "0123 4567 89AB CDEF",
		"0123-4567-89AB-CDEU", "0123_4567_89AB_CDEF", "0123-4567-89AB-CDEF\n", "0123-4567-89AB-CDE\u0131", // dotless i
		"0123-4567-89AB-CDE\u212a", // Kelvin sign, which Unicode folds to K
		"0123-4567-89AB-CDEF" + strings.Repeat("-", 20),
	} {
		if got, ok := auth.NormalizeRecoveryCode(in); ok {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, want refused", in, got)
		}
	}
}

func FuzzNormalizeRecoveryCode(f *testing.F) {
	f.Add("0123-4567-89ab-cdef")
	f.Add("ILOU-0000-0000-0000")
	f.Fuzz(func(t *testing.T, in string) {
		norm, ok := auth.NormalizeRecoveryCode(in)
		if !ok {
			return
		}
		if len(norm) != 16 || strings.Trim(norm, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
			t.Fatalf("%q normalised to %q", in, norm)
		}
		again, ok := auth.NormalizeRecoveryCode(auth.FormatRecoveryCode(norm))
		if !ok || again != norm {
			t.Fatalf("%q: shown and typed again gives %q, %v", norm, again, ok)
		}
	})
}

// TestRecoveryCodesOnce: each code works once, typed in any case with or
// without dashes; another user's code does not work; regenerating
// replaces them all.
func TestRecoveryCodesOnce(t *testing.T) {
	a, _, u, _, codes := enrolled(t)
	bare := strings.ToLower(strings.ReplaceAll(codes[0], "-", ""))
	if err := a.Auth.UseRecoveryCode(bg, u.ID, bare); err != nil {
		t.Fatalf("%q: %v", bare, err)
	}
	for _, again := range []string{codes[0], bare} {
		wantErr(t, a.Auth.UseRecoveryCode(bg, u.ID, again), latchkey.EINVALIDCREDENTIALS, "a used code")
	}
	if err := a.Auth.UseRecoveryCode(bg, u.ID, codes[1]); err != nil {
		t.Fatalf("%q: %v", codes[1], err)
	}
	wantErr(t, a.Auth.UseRecoveryCode(bg, u.ID, "0000-0000-0000-0000"), latchkey.EINVALIDCREDENTIALS, "a wrong code")
	wantErr(t, a.Auth.UseRecoveryCode(bg, u.ID, " "+codes[2]), latchkey.EINVALIDCREDENTIALS, "a padded code")
	if n, err := a.Store.CountRecoveryCodes(bg, u.ID); err != nil || n != 8 {
		t.Fatalf("%d codes left (%v), want 8", n, err)
	}

	// Another user, with codes of their own, cannot use ours.
	g, err := a.Auth.SignUp(bg, "bob@example.com", "correct horse battery", "", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, a.Auth.UseRecoveryCode(bg, g.User.ID, codes[3]), latchkey.EINVALIDCREDENTIALS, "ada's code for bob")
	// Even with ada's stored MACs copied to bob's rows: the MAC binds the
	// user.
	_, err = a.Store.Writer().ExecContext(bg, `INSERT INTO recovery_codes (user_id, code_mac, created_at)
		SELECT $1, code_mac, created_at FROM recovery_codes WHERE user_id = $2`, g.User.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, a.Auth.UseRecoveryCode(bg, g.User.ID, codes[3]), latchkey.EINVALIDCREDENTIALS, "ada's code in bob's rows")
	if _, err := a.Store.Writer().ExecContext(bg, `DELETE FROM recovery_codes WHERE user_id = $1`, g.User.ID); err != nil {
		t.Fatal(err)
	}

	fresh, err := a.Auth.RegenerateRecoveryCodes(bg, u.ID)
	if err != nil || len(fresh) != latchkey.RecoveryCodeCount {
		t.Fatalf("RegenerateRecoveryCodes: %d codes, %v", len(fresh), err)
	}
	wantErr(t, a.Auth.UseRecoveryCode(bg, u.ID, codes[3]), latchkey.EINVALIDCREDENTIALS, "an old code after regenerating")
	if err := a.Auth.UseRecoveryCode(bg, u.ID, fresh[9]); err != nil {
		t.Fatalf("a new code: %v", err)
	}
	_, err = a.Auth.RegenerateRecoveryCodes(bg, g.User.ID)
	wantErr(t, err, latchkey.ENOTFOUND, "codes for a user without a factor")
}
