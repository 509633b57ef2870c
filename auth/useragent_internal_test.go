package auth

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestCleanUserAgent: what is kept of a User-Agent has no control or
// format character, is valid UTF-8 and at most 256 bytes, cut on a
// character boundary.
func TestCleanUserAgent(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (X11; Linux x86_64)"},
		{"empty", "", ""},
		{"terminal escape", "curl/8\x1b[2J\x1b]0;owned\x07 ok", "curl/8[2J]0;owned ok"},
		{"newline and tab", "a\r\nmsg=audit type=signin\tb", "amsg=audit type=signinb"},
		{"DEL and C1", "a\x7fb\u0085c\u009bd", "abcd"},
		{"bidi override", "evil\u202egnp.exe\u202c", "evilgnp.exe"},
		{"bidi isolates and marks", "\u2066a\u2069\u200eb\u200f\u061c", "ab"},
		{"zero width", "a\u200bb\u200cc\u200dd\ufeffe\u2060f", "abcdef"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
		{"non-ASCII kept", "Navigateur café ☕", "Navigateur café ☕"},
		{"ASCII cut at 256", strings.Repeat("a", 300), strings.Repeat("a", 256)},
		// 127 two-byte characters are 254 bytes; the next would pass 256.
		{"cut on a boundary", "x" + strings.Repeat("é", 200), "x" + strings.Repeat("é", 127)},
		{"controls do not count", strings.Repeat("\x00", 1000) + "ok", "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cleanUserAgent(tc.in); got != tc.want {
				t.Errorf("cleanUserAgent(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzCleanUserAgent(f *testing.F) {
	for _, s := range []string{"curl/8", "a\x1b[31mb", "\u202e", strings.Repeat("é", 200), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := cleanUserAgent(in)
		if len(out) > maxUserAgent || !utf8.ValidString(out) {
			t.Fatalf("cleanUserAgent(%q) = %q: %d bytes, valid UTF-8 %v", in, out, len(out), utf8.ValidString(out))
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("cleanUserAgent(%q) = %q keeps %U", in, out, r)
			}
		}
		if cleanUserAgent(out) != out {
			t.Fatalf("cleanUserAgent is not idempotent on %q", in)
		}
	})
}
