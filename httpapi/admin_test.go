package httpapi_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// admin signs up email and makes it an admin (the first admin comes from
// the `user create --role admin` command; here, straight in the store).
func (h *harness) admin(email string) grant {
	h.t.Helper()
	g := h.signUp(email)
	if _, err := h.store.Writer().Exec(`UPDATE users SET role = 'admin' WHERE id = $1`, g.User.ID); err != nil {
		h.t.Fatal(err)
	}
	return h.signIn(email, testPassword)
}

func TestAdminRoutesNeedAdmin(t *testing.T) {
	h := newHarness(t, options{})
	user := h.signUp("user@example.com")
	for _, r := range []req{
		{Method: "GET", Path: "/api/admin/users"},
		{Method: "PATCH", Path: "/api/admin/users/" + user.User.ID, Body: map[string]any{"disabled": true}},
		{Method: "GET", Path: "/api/admin/audit"},
	} {
		h.Do(r).Problem(t, 401, "missing_token")
		r.Bearer = user.AccessToken
		h.Do(r).Problem(t, 403, "forbidden")
	}
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: user.AccessToken}); r.Status != 200 {
		t.Fatal("a refused admin call touched the user")
	}
}

func TestAdminUsers(t *testing.T) {
	h := newHarness(t, options{})
	root := h.admin("root@example.com")
	ada := h.signUp("ada@example.com")
	h.signUp("bob@example.com")

	r := h.Do(req{Method: "GET", Path: "/api/admin/users?limit=2", Bearer: root.AccessToken})
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	users := m["users"].([]any)
	if len(users) != 2 || m["next_cursor"] == nil {
		t.Fatalf("first page: %v", m)
	}
	u0 := users[0].(map[string]any)
	if u0["email"] != "bob@example.com" || u0["disabled"] != false || u0["password_hash"] != nil {
		t.Errorf("newest user = %v", u0)
	}
	r = h.Do(req{Method: "GET", Path: "/api/admin/users?limit=2&cursor=" + m["next_cursor"].(string), Bearer: root.AccessToken})
	if m := r.JSON(t); len(m["users"].([]any)) != 1 || m["next_cursor"] != nil {
		t.Fatalf("last page: %v", m)
	}
	h.Do(req{Method: "GET", Path: "/api/admin/users?limit=0", Bearer: root.AccessToken}).Problem(t, 400, "validation_failed")

	// Disable: Ada's live token dies at once, sign-in says disabled, refresh is refused.
	r = h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + ada.User.ID, Bearer: root.AccessToken, Body: map[string]any{"disabled": true}})
	if r.Status != 200 || r.JSON(t)["user"].(map[string]any)["disabled"] != true {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: ada.AccessToken}).Problem(t, 401, "token_revoked")
	h.Refresh(ada.RefreshToken).Problem(t, 401, "token_revoked")
	h.signInStatus("ada@example.com", testPassword).Problem(t, 403, "account_disabled")
	// Enable again: signing in works.
	h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + ada.User.ID, Bearer: root.AccessToken, Body: map[string]any{"disabled": false}})
	again := h.signIn("ada@example.com", testPassword)

	// Promote: her sessions end, so no token keeps the old role; the next one says admin.
	h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + ada.User.ID, Bearer: root.AccessToken, Body: map[string]any{"role": "admin"}})
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: again.AccessToken}).Problem(t, 401, "token_revoked")
	promoted := h.signIn("ada@example.com", testPassword)
	if r := h.Do(req{Method: "GET", Path: "/api/admin/users", Bearer: promoted.AccessToken}); r.Status != 200 {
		t.Fatalf("promoted admin: %d", r.Status)
	}

	for _, tc := range []struct {
		name, id string
		body     any
		status   int
		code     string
	}{
		{"unknown user", "01900000-0000-7000-8000-000000000000", map[string]any{"disabled": true}, 404, "not_found"},
		{"bad role", ada.User.ID, map[string]any{"role": "owner"}, 400, "validation_failed"},
		{"unknown field", ada.User.ID, `{"email":"x@y.z"}`, 400, "invalid_request"},
		{"wrong type", ada.User.ID, `{"disabled":"yes"}`, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + tc.id, Bearer: root.AccessToken, Body: tc.body}).Problem(t, tc.status, tc.code)
		})
	}
}

func TestLastAdmin(t *testing.T) {
	h := newHarness(t, options{})
	root := h.admin("root@example.com")
	id := root.User.ID
	h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + id, Bearer: root.AccessToken, Body: map[string]any{"role": "user"}}).Problem(t, 400, "validation_failed")
	h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + id, Bearer: root.AccessToken, Body: map[string]any{"disabled": true}}).Problem(t, 400, "validation_failed")
	if r := h.Do(req{Method: "GET", Path: "/api/admin/users", Bearer: root.AccessToken}); r.Status != 200 {
		t.Fatal("the last admin lost access")
	}
	// With a second admin, the first may step down.
	h.admin("second@example.com")
	if r := h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + id, Bearer: root.AccessToken, Body: map[string]any{"role": "user"}}); r.Status != 200 {
		t.Fatalf("demote with another admin: %d %s", r.Status, r.Body)
	}
}

// TestLastAdminExternal: an admin provisioned from the trusted issuer
// cannot use the admin API, so it does not count for the last-admin rule:
// the only local admin still cannot demote or disable themselves.
func TestLastAdminExternal(t *testing.T) {
	h, f := trustedHarness(t)
	ext := f.token(t, "ba-admin", func(c jwt.MapClaims) { c["role"] = "admin" })
	if r := h.Do(req{Method: "GET", Path: "/api/ba-admin/tasks", Bearer: ext}); r.Status != 200 {
		t.Fatalf("external admin's first call: %d %s", r.Status, r.Body)
	}
	if u, err := h.store.FindUserByID(context.Background(), "ba-admin"); err != nil || u.Role != "admin" || u.Issuer != extIssuer {
		t.Fatalf("provisioned %+v, %v", u, err)
	}
	root := h.admin("root@example.com")
	id := root.User.ID
	for _, body := range []map[string]any{{"role": "user"}, {"disabled": true}, {"role": "user", "disabled": true}} {
		h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + id, Bearer: root.AccessToken, Body: body}).Problem(t, 400, "validation_failed")
	}
	if r := h.Do(req{Method: "GET", Path: "/api/admin/users", Bearer: root.AccessToken}); r.Status != 200 {
		t.Fatalf("the only local admin lost access: %d", r.Status)
	}
	// The external admin itself is not guarded.
	if r := h.Do(req{Method: "PATCH", Path: "/api/admin/users/ba-admin", Bearer: root.AccessToken, Body: map[string]any{"role": "user"}}); r.Status != 200 {
		t.Fatalf("demote the external admin: %d %s", r.Status, r.Body)
	}
}

// TestAuditLog drives every event type through the API and finds each in
// the audit log, filtered and paged, with no secret anywhere in it.
func TestAuditLog(t *testing.T) {
	h := newHarness(t, options{grace: 0, rate: 1000})
	root := h.admin("root@example.com")
	ada := h.signUp("ada@example.com")                                            // signup
	h.signInStatus("ada@example.com", "wrong password")                           // signin_failed
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: "garbage.token.value"}) // token_rejected
	h.Grant(h.Refresh(ada.RefreshToken), 200)                                     // refresh
	h.Refresh(ada.RefreshToken)                                                   // refresh_reuse
	s1 := h.signIn("ada@example.com", testPassword)                               // signin
	s2 := h.signIn("ada@example.com", testPassword)
	h.Do(req{Method: "DELETE", Path: "/api/auth/sessions/" + s2.SessionID, Bearer: s1.AccessToken}) // session_revoked
	const next = "another long password"
	h.Secrets = append(h.Secrets, next)
	h.Do(req{Method: "POST", Path: "/api/auth/password", Bearer: s1.AccessToken,
		Body: map[string]string{"current_password": testPassword, "new_password": next}}) // password_changed
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: s1.AccessToken})                                                          // signout
	h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + ada.User.ID, Bearer: root.AccessToken, Body: map[string]any{"disabled": true}}) // user_disabled
	for range 11 {
		h.signInStatus("nobody@example.com", "wrong password") // rate_limited at the 11th
	}

	want := []string{"signup", "signin", "signin_failed", "token_rejected", "refresh", "refresh_reuse",
		"signout", "session_revoked", "password_changed", "user_disabled", "rate_limited"}
	var body string
	deadline := time.Now().Add(3 * time.Second)
	for {
		r := h.Do(req{Method: "GET", Path: "/api/admin/audit?limit=200", Bearer: root.AccessToken})
		if r.Status != 200 {
			t.Fatalf("audit: %d %s", r.Status, r.Body)
		}
		body = string(r.Body)
		missing := ""
		for _, typ := range want {
			if !strings.Contains(body, `"type":"`+typ+`"`) {
				missing = typ
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event in the audit log: %s", missing, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, s := range h.Secrets {
		if s != "" && strings.Contains(body, s) {
			t.Fatalf("a secret is in the audit log: %.12s...", s)
		}
	}
	u, _ := h.store.FindUserByEmail(context.Background(), "ada@example.com")
	if strings.Contains(body, u.PasswordHash) {
		t.Fatal("a password hash is in the audit log")
	}

	// The disable event names the admin as actor and Ada as the user.
	r := h.Do(req{Method: "GET", Path: "/api/admin/audit?type=user_disabled", Bearer: root.AccessToken})
	evs := r.JSON(t)["events"].([]any)
	if len(evs) != 1 {
		t.Fatalf("user_disabled events: %v", evs)
	}
	ev := evs[0].(map[string]any)
	if ev["user_id"] != ada.User.ID || ev["actor_id"] != root.User.ID || ev["ip"] != "127.0.0.1" || ev["at"] == "" || ev["id"] == "" {
		t.Errorf("user_disabled event = %v", ev)
	}
	// Filter by user, and page.
	r = h.Do(req{Method: "GET", Path: "/api/admin/audit?user_id=" + ada.User.ID + "&limit=2", Bearer: root.AccessToken})
	m := r.JSON(t)
	for _, x := range m["events"].([]any) {
		if x.(map[string]any)["user_id"] != ada.User.ID {
			t.Errorf("user filter let through %v", x)
		}
	}
	if len(m["events"].([]any)) != 2 || m["next_cursor"] == nil {
		t.Fatalf("first page of Ada's events: %v", m)
	}
	h.Do(req{Method: "GET", Path: "/api/admin/audit?cursor=nope", Bearer: root.AccessToken}).Problem(t, 400, "invalid_request")
}

// TestAdminNoOpUpdate: a PATCH that restates the user changes nothing: no
// session revoked, no audit event.
func TestAdminNoOpUpdate(t *testing.T) {
	h := newHarness(t, options{})
	root := h.admin("root@example.com")
	bob := h.signUp("bob@example.com")
	r := h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + bob.User.ID, Bearer: root.AccessToken, Body: map[string]any{"role": "user", "disabled": false}})
	if r.Status != 200 {
		t.Fatalf("no-op patch: %d %s", r.Status, r.Body)
	}
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: bob.AccessToken}); r.Status != 200 {
		t.Fatal("a no-op update revoked the user's session")
	}
	for _, typ := range []string{"role_changed", "user_enabled"} {
		evs := h.Do(req{Method: "GET", Path: "/api/admin/audit?type=" + typ, Bearer: root.AccessToken}).JSON(t)["events"].([]any)
		if len(evs) != 0 {
			t.Errorf("a no-op update recorded %s: %v", typ, evs)
		}
	}
	if m := h.Do(req{Method: "GET", Path: "/metrics"}); !strings.Contains(string(m.Body), "latchkey_audit_events_dropped_total 0") {
		t.Error("no audit drop counter in the metrics")
	}
	// Two sign-ups and a sign-in so far: one argon2id run each.
	if m := h.Do(req{Method: "GET", Path: "/metrics"}); !regexp.MustCompile(`(?m)^latchkey_password_hashes_total [1-9]`).Match(m.Body) {
		t.Errorf("no count of password hashes in the metrics")
	}
}
