package latchkey_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestCursorRoundTrip(t *testing.T) {
	c := latchkey.Cursor{CreatedAt: time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC), ID: "01a2-xyz"}
	got, err := latchkey.DecodeCursor(c.Encode())
	if err != nil || !got.CreatedAt.Equal(c.CreatedAt) || got.ID != c.ID {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	// An id with a NUL is no id of ours (PostgreSQL's TEXT cannot hold one).
	withNUL := latchkey.Cursor{CreatedAt: c.CreatedAt, ID: "a\x00b"}.Encode()
	for _, bad := range []string{"", "a", "!!!!", "AAAAAAAAAAA", "AAAAAAAAAA_w", withNUL} {
		if _, err := latchkey.DecodeCursor(bad); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("DecodeCursor(%q) = %v, want invalid_request", bad, err)
		}
	}
}

// FuzzDecodeCursor: cursors come from clients; decoding must never
// panic, and whatever decodes must encode back to itself.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(latchkey.Cursor{CreatedAt: time.Unix(1, 2), ID: "x"}.Encode())
	f.Add("")
	f.Add("////")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := latchkey.DecodeCursor(s)
		if err != nil {
			return
		}
		if c2, err := latchkey.DecodeCursor(c.Encode()); err != nil || *c2 != *c {
			t.Fatalf("re-decode of %q: %+v %v", s, c2, err)
		}
	})
}
