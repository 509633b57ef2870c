package latchkey_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestTaskCursorRoundTrip(t *testing.T) {
	c := latchkey.TaskCursor{CreatedAt: time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC), ID: "01a2-xyz"}
	got, err := latchkey.DecodeTaskCursor(c.Encode())
	if err != nil || !got.CreatedAt.Equal(c.CreatedAt) || got.ID != c.ID {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "a", "!!!!", "AAAAAAAAAAA", "AAAAAAAAAA_w"} {
		if _, err := latchkey.DecodeTaskCursor(bad); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("DecodeTaskCursor(%q) = %v, want invalid_request", bad, err)
		}
	}
}

// FuzzDecodeTaskCursor: cursors come from clients; decoding must never
// panic, and whatever decodes must encode back to itself.
func FuzzDecodeTaskCursor(f *testing.F) {
	f.Add(latchkey.TaskCursor{CreatedAt: time.Unix(1, 2), ID: "x"}.Encode())
	f.Add("")
	f.Add("////")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := latchkey.DecodeTaskCursor(s)
		if err != nil {
			return
		}
		if c2, err := latchkey.DecodeTaskCursor(c.Encode()); err != nil || *c2 != *c {
			t.Fatalf("re-decode of %q: %+v %v", s, c2, err)
		}
	})
}
