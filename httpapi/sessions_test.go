package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// sessionLimitEvents returns the session ids of the user's session_revoked
// events with reason session_limit.
func (h *harness) sessionLimitEvents(userID string) []string {
	h.t.Helper()
	evs, _, err := h.store.ListAudit(context.Background(), latchkey.AuditFilter{
		Type: latchkey.AuditSessionRevoked, UserID: userID, Limit: latchkey.MaxPageSize})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Reason == latchkey.ReasonSessionLimit {
			out = append(out, ev.SessionID)
		}
	}
	return out
}

// sessionPage is one answer of GET /api/auth/sessions.
type sessionPage struct {
	Sessions []struct {
		ID      string `json:"id"`
		Current bool   `json:"current"`
	} `json:"sessions"`
	NextCursor *string `json:"next_cursor"`
}

func (h *harness) sessionPage(bearer, query string) sessionPage {
	h.t.Helper()
	r := h.Do(req{Method: "GET", Path: "/api/auth/sessions" + query, Bearer: bearer})
	r.WantStatus(h.t, http.StatusOK)
	var p sessionPage
	r.Decode(h.t, &p)
	return p
}

func (p sessionPage) ids() []string {
	var out []string
	for _, s := range p.Sessions {
		out = append(out, s.ID)
	}
	return out
}

// TestSessionCap: with LATCHKEY_MAX_SESSIONS=3, the fourth sign-in revokes
// the least recently used session (the one never refreshed, though not the
// oldest): its access token is refused at once as revoked, its refresh
// token too, the revocation is audited with reason session_limit, and the
// other sessions go on.
func TestSessionCap(t *testing.T) {
	h := newHarness(t, options{maxSessions: 3})
	a := h.signUp("ada@example.com") // the oldest, refreshed below
	h.clock.Advance(time.Minute)
	b := h.signIn("ada@example.com", testPassword) // never used again
	h.clock.Advance(time.Minute)
	c := h.signIn("ada@example.com", testPassword)
	h.clock.Advance(time.Minute)
	a2 := h.Grant(h.Refresh(a.RefreshToken), http.StatusOK) // a is now the most recently used
	h.clock.Advance(time.Minute)
	bob := h.signUp("bob@example.com") // another user's sessions do not count
	if got := h.sessionLimitEvents(a.User.ID); len(got) != 0 {
		t.Fatalf("revoked %v within the cap", got)
	}

	d := h.signIn("ada@example.com", testPassword)
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: b.AccessToken}).Problem(t, 401, "token_revoked")
	h.Refresh(b.RefreshToken).Problem(t, 401, "token_revoked")
	for name, tok := range map[string]string{"a": a2.AccessToken, "c": c.AccessToken, "d": d.AccessToken, "bob": bob.AccessToken} {
		h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: tok}).Labeled(name).WantStatus(t, http.StatusOK)
	}
	want := []string{d.SessionID, c.SessionID, a.SessionID} // newest first
	if got := h.sessionPage(d.AccessToken, "").ids(); !slices.Equal(got, want) {
		t.Fatalf("sessions %v, want %v", got, want)
	}
	if got := h.sessionLimitEvents(a.User.ID); !slices.Equal(got, []string{b.SessionID}) {
		t.Fatalf("session_limit events for %v, want %v", got, []string{b.SessionID})
	}
	stored, err := h.store.FindSession(context.Background(), b.SessionID)
	if err != nil || stored.RevokeReason != latchkey.ReasonSessionLimit {
		t.Fatalf("revoked session kept reason %q (%v)", stored.RevokeReason, err)
	}
	if !h.App.Revoked.Revoked(b.SessionID) {
		t.Fatal("the displaced session is not in the revocation set")
	}
}

// TestSessionCapConcurrent: twenty sign-ins at once with a cap of 3 leave
// exactly three live sessions; every other session's token is refused.
// The per-account throttle may turn some of the twenty away (attempts in
// flight count), but at least ten get through.
func TestSessionCapConcurrent(t *testing.T) {
	h := newHarness(t, options{maxSessions: 3})
	first := h.signUp("ada@example.com")
	var wg sync.WaitGroup
	var mu sync.Mutex
	grants := []grant{first}
	start := make(chan struct{})
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := h.Call("POST", "/api/auth/signin", "", map[string]string{"email": "ada@example.com", "password": testPassword})
			if r.Status == http.StatusTooManyRequests {
				return
			}
			if r.Status != http.StatusOK {
				t.Errorf("sign-in: %d %s", r.Status, r.Body)
				return
			}
			var g grant
			r.Decode(t, &g)
			mu.Lock()
			grants = append(grants, g)
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("%d of 20 concurrent sign-ins got through", len(grants)-1)
	if len(grants) < 11 {
		t.Fatalf("only %d of 20 concurrent sign-ins got through", len(grants)-1)
	}
	var live []string
	var liveToken string
	for _, g := range grants {
		r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken})
		switch r.Status {
		case http.StatusOK:
			live, liveToken = append(live, g.SessionID), g.AccessToken
		default:
			r.Problem(t, 401, "token_revoked")
		}
	}
	if len(live) != 3 {
		t.Fatalf("%d of %d sessions live after concurrent sign-ins, want 3", len(live), len(grants))
	}
	listed := h.sessionPage(liveToken, "").ids()
	slices.Sort(listed)
	slices.Sort(live)
	if !slices.Equal(listed, live) {
		t.Fatalf("listed %v, live tokens of %v", listed, live)
	}
	if n := len(h.sessionLimitEvents(first.User.ID)); n != len(grants)-3 {
		t.Fatalf("%d session_limit events for %d displaced sessions", n, len(grants)-3)
	}
}

// TestSessionListPages: GET /api/auth/sessions pages as the task list does:
// limit 1-200 (default 50), next_cursor until the last page, a cursor the
// server did not make is 400 invalid_request; the walk gives every live
// session once, newest first.
func TestSessionListPages(t *testing.T) {
	h := newHarness(t, options{})
	first := h.signUp("ada@example.com")
	want := []string{first.SessionID}
	for range 51 {
		h.clock.Advance(time.Second)
		want = append(want, h.signIn("ada@example.com", testPassword).SessionID)
	}
	slices.Reverse(want)
	tok := first.AccessToken

	def := h.sessionPage(tok, "")
	if len(def.Sessions) != latchkey.DefaultPageSize || def.NextCursor == nil {
		t.Fatalf("default page: %d sessions, next_cursor %v", len(def.Sessions), def.NextCursor)
	}
	if !slices.Equal(def.ids(), want[:50]) {
		t.Fatal("the default page is not the 50 newest, newest first")
	}
	rest := h.sessionPage(tok, "?cursor="+url.QueryEscape(*def.NextCursor))
	if !slices.Equal(rest.ids(), want[50:]) || rest.NextCursor != nil {
		t.Fatalf("second page %v (next %v), want %v and no cursor", rest.ids(), rest.NextCursor, want[50:])
	}
	if all := h.sessionPage(tok, "?limit=200"); !slices.Equal(all.ids(), want) || all.NextCursor != nil {
		t.Fatalf("limit=200: %d sessions, next %v", len(all.Sessions), all.NextCursor)
	}

	// A walk by 5: every session once, in order; the current one marked.
	var walked []string
	current := 0
	query := "?limit=5"
	for pages := 0; ; pages++ {
		p := h.sessionPage(tok, query)
		if len(p.Sessions) > 5 || pages > 11 {
			t.Fatalf("page %d: %d sessions", pages, len(p.Sessions))
		}
		for _, s := range p.Sessions {
			if s.Current {
				current++
			}
		}
		walked = append(walked, p.ids()...)
		if p.NextCursor == nil {
			break
		}
		query = "?limit=5&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	if !slices.Equal(walked, want) || current != 1 {
		t.Fatalf("walk gave %d sessions (%d current), want %d in order, one current", len(walked), current, len(want))
	}

	for _, q := range []string{"limit=0", "limit=201", "limit=-1", "limit=ten", "limit=1.5", "limit=99999999999999999999"} {
		m := h.Do(req{Method: "GET", Path: "/api/auth/sessions?" + q, Bearer: tok}).Labeled(q).Problem(t, 400, "validation_failed")
		errs, _ := m["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["field"] != "limit" {
			t.Errorf("%s: errors %v, want one on limit", q, m["errors"])
		}
	}
	if p := h.sessionPage(tok, "?limit=1"); len(p.Sessions) != 1 || p.NextCursor == nil {
		t.Fatalf("limit=1: %d sessions, next %v", len(p.Sessions), p.NextCursor)
	}
	for _, q := range []string{"cursor=!!!", "cursor=AAAA", "cursor=" + url.QueryEscape(*def.NextCursor+"=")} {
		h.Do(req{Method: "GET", Path: "/api/auth/sessions?" + q, Bearer: tok}).Labeled(q).Problem(t, 400, "invalid_request")
	}
	h.Do(req{Method: "GET", Path: "/api/auth/sessions?a=%zz", Bearer: tok}).Problem(t, 400, "invalid_request")
	// Paging still needs a token.
	h.Do(req{Method: "GET", Path: "/api/auth/sessions?limit=5"}).Problem(t, 401, "missing_token")
}
