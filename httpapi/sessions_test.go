package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

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
