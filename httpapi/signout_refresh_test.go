package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// signOutWith signs out with a refresh token in the body, no Bearer.
func (h *harness) signOutWith(refresh, scope string) response {
	h.t.Helper()
	body := map[string]string{"refresh_token": refresh}
	if scope != "" {
		body["scope"] = scope
	}
	return h.Do(req{Method: "POST", Path: "/api/auth/signout", Body: body})
}

// wantLive fails unless g's session still works: its access token and its
// refresh token, which then rotates (the new grant is returned).
func (h *harness) wantLive(name string, g grant) grant {
	h.t.Helper()
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken}); r.Status != 200 {
		h.t.Fatalf("%s session was ended: GET /api/auth/me %d %s", name, r.Status, r.Body)
	}
	return h.Grant(h.Refresh(g.RefreshToken).Labeled(name+" session's refresh"), 200)
}

// sessionOf reads a session behind the API's back.
func (h *harness) sessionOf(id string) *latchkey.Session {
	h.t.Helper()
	s, err := h.store.FindSession(context.Background(), id)
	if err != nil {
		h.t.Fatalf("find session %s: %v", id, err)
	}
	return s
}

// auditTypes returns the types of the audit events about session sid.
func (h *harness) auditTypes(sid string) []string {
	h.t.Helper()
	evs, _, err := h.store.ListAudit(context.Background(), latchkey.AuditFilter{Limit: 200})
	if err != nil {
		h.t.Fatalf("list audit: %v", err)
	}
	var types []string
	for _, ev := range evs {
		if ev.SessionID == sid {
			types = append(types, ev.Type)
		}
	}
	return types
}

// TestSignOutSpentRefreshToken: signing out with a refresh token that was
// rotated away, outside the grace window, is reuse, as a refresh with it
// would be. Whatever the scope, the token's session is revoked for reuse,
// refresh_reuse is audited, the answer is 401 token_revoked, and no other
// session ends.
func TestSignOutSpentRefreshToken(t *testing.T) {
	for _, scope := range []string{"", "local", "others", "global"} {
		t.Run("scope="+scope, func(t *testing.T) {
			h := newHarness(t, options{grace: 10 * time.Second})
			a := h.signUp("ada@example.com")
			b := h.signIn("ada@example.com", testPassword)
			a2 := h.Grant(h.Refresh(a.RefreshToken), 200)
			h.clock.Advance(11 * time.Second) // past the grace window

			h.signOutWith(a.RefreshToken, scope).Problem(t, 401, "token_revoked")

			if s := h.sessionOf(a.SessionID); s.RevokeReason != latchkey.ReasonRefreshReuse {
				t.Errorf("the spent token's session: revoked %v for %q, want revoked for %q", s.RevokedAt, s.RevokeReason, latchkey.ReasonRefreshReuse)
			}
			h.Refresh(a2.RefreshToken).Problem(t, 401, "token_revoked")
			h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: a2.AccessToken}).Problem(t, 401, "token_revoked")
			h.wantLive("the other", b)
			if types := h.auditTypes(a.SessionID); !slices.Contains(types, latchkey.AuditRefreshReuse) || slices.Contains(types, latchkey.AuditSignout) {
				t.Errorf("audit events of the session: %v, want refresh_reuse and no signout", types)
			}
		})
	}
}

// TestSignOutStrictSpentToken: with no grace window the token just
// replaced is spent at once; from the cookie it is reuse too, and the
// cookie is cleared.
func TestSignOutStrictSpentToken(t *testing.T) {
	h := newHarness(t, options{grace: 0})
	a := h.signUp("ada@example.com")
	b := h.signIn("ada@example.com", testPassword)
	h.Grant(h.Refresh(a.RefreshToken), 200)
	r := h.Do(req{Method: "POST", Path: "/api/auth/signout", Body: map[string]string{"scope": "global"},
		Cookie: &http.Cookie{Name: "latchkey_refresh", Value: a.RefreshToken}, Header: map[string]string{"Origin": h.URL}})
	r.Problem(t, 401, "token_revoked")
	if ck := cookieOf(t, r.Header, "latchkey_refresh"); ck.MaxAge >= 0 {
		t.Errorf("dead cookie not cleared: %+v", ck)
	}
	if s := h.sessionOf(a.SessionID); s.RevokeReason != latchkey.ReasonRefreshReuse {
		t.Errorf("session revoked for %q, want %q", s.RevokeReason, latchkey.ReasonRefreshReuse)
	}
	h.wantLive("the other", b)
}

// TestSignOutExpiredSessionToken: the token of a session that has run out,
// current or spent, is 401 invalid_token, and signs nothing out.
func TestSignOutExpiredSessionToken(t *testing.T) {
	for _, scope := range []string{"local", "others", "global"} {
		t.Run("scope="+scope, func(t *testing.T) {
			h := newHarness(t, options{grace: 0})
			old := h.signUp("ada@example.com")
			spent := h.signIn("ada@example.com", testPassword)
			h.Grant(h.Refresh(spent.RefreshToken), 200)
			h.clock.Advance(31 * 24 * time.Hour) // both sessions have expired
			b := h.signIn("ada@example.com", testPassword)

			h.signOutWith(old.RefreshToken, scope).Problem(t, 401, "invalid_token")
			h.signOutWith(spent.RefreshToken, scope).Problem(t, 401, "invalid_token")
			h.wantLive("the live", b)
			for _, sid := range []string{old.SessionID, spent.SessionID} {
				if s := h.sessionOf(sid); s.Revoked() {
					t.Errorf("expired session %s revoked for %q: an ended session has nothing to protect", sid, s.RevokeReason)
				}
			}
		})
	}
}

// TestSignOutGraceToken: the token a rotation just replaced, within the
// grace window, belongs to the session's current holder (a second tab that
// has not seen the new token yet): it signs out as the current token does.
func TestSignOutGraceToken(t *testing.T) {
	for _, tc := range []struct {
		scope           string
		selfEnds, other bool
	}{
		{"local", true, true},
		{"others", false, false},
		{"global", true, false},
	} {
		t.Run("scope="+tc.scope, func(t *testing.T) {
			h := newHarness(t, options{grace: 10 * time.Second})
			a := h.signUp("ada@example.com")
			b := h.signIn("ada@example.com", testPassword)
			a2 := h.Grant(h.Refresh(a.RefreshToken), 200)
			h.clock.Advance(5 * time.Second)
			h.signOutWith(a.RefreshToken, tc.scope).WantStatus(t, 204)
			if tc.selfEnds {
				h.Refresh(a2.RefreshToken).Problem(t, 401, "token_revoked")
				if s := h.sessionOf(a.SessionID); s.RevokeReason != latchkey.ReasonSignout {
					t.Errorf("session revoked for %q, want %q", s.RevokeReason, latchkey.ReasonSignout)
				}
			} else {
				h.wantLive("own", a2)
			}
			if tc.other {
				h.wantLive("the other", b)
			} else {
				h.Refresh(b.RefreshToken).Problem(t, 401, "token_revoked")
			}
		})
	}
}

// TestSignOutRefreshBadScope: an unknown scope is 400 and changes nothing,
// even with a spent token, which a well-formed call would report as reuse.
func TestSignOutRefreshBadScope(t *testing.T) {
	h := newHarness(t, options{grace: 0})
	a := h.signUp("ada@example.com")
	a2 := h.Grant(h.Refresh(a.RefreshToken), 200)
	h.signOutWith(a.RefreshToken, "sideways").Problem(t, 400, "validation_failed")
	h.signOutWith(a2.RefreshToken, "sideways").Problem(t, 400, "validation_failed")
	h.wantLive("own", a2)
}
