package httpapi_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testkit"
)

// auditOf lists up to 200 stored events of type typ, newest first.
func (h *harness) auditOf(typ string) []*latchkey.AuditEvent {
	h.t.Helper()
	evs, _, err := h.store.ListAudit(context.Background(), latchkey.AuditFilter{Type: typ, Limit: 200})
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

// TestUserAgentCleaned: the User-Agent is the client's to choose. What is
// kept of it, in the session list, the audit log and the log line, has no
// control, bidi or zero-width character and is at most 256 bytes, cut on a
// character boundary. (Go's server already refuses C0 controls other than
// tab in a header; C1 controls, bidi overrides and invalid UTF-8 come
// through.)
func TestUserAgentCleaned(t *testing.T) {
	h := newHarness(t, options{})
	ua := "Evil\u202e\u200b\u009b2J/1.0\t\xff " + strings.Repeat("é", 300)
	want := "Evil2J/1.0\ufffd " + strings.Repeat("é", 121) // 14 + 242 bytes
	h.signUp("ada@example.com")
	g := h.Grant(h.Call("POST", "/api/auth/signin", "",
		map[string]string{"email": "ada@example.com", "password": testPassword}, "User-Agent", ua), 200)
	h.Call("GET", "/api/auth/me", "garbage.token.value", nil, "User-Agent", ua).Problem(t, 401, "invalid_token")

	var list struct {
		Sessions []struct {
			UserAgent string `json:"user_agent"`
			Current   bool   `json:"current"`
		} `json:"sessions"`
	}
	h.Do(req{Method: "GET", Path: "/api/auth/sessions", Bearer: g.AccessToken}).Decode(t, &list)
	for _, s := range list.Sessions {
		if s.Current && s.UserAgent != want {
			t.Errorf("session user_agent = %q (%d bytes), want %q", s.UserAgent, len(s.UserAgent), want)
		}
	}
	for _, typ := range []string{latchkey.AuditSignin, latchkey.AuditTokenRejected} {
		testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool { return len(h.auditOf(typ)) > 0 })
		evs := h.auditOf(typ)
		if len(evs) != 1 || evs[0].UserAgent != want {
			t.Errorf("%s events %+v, want one with user_agent %q", typ, evs, want)
		}
	}
	if n := strings.Count(h.Logs.String(), "user_agent="+strconv.Quote(want)); n != 2 {
		t.Errorf("%d log lines with the cleaned user agent, want 2 (signin, token_rejected):\n%s", n, h.Logs)
	}
}
