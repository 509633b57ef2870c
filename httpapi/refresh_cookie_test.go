package httpapi_test

import (
	"net/http"
	"testing"
)

// TestRefreshWithoutToken: a refresh with neither a body token nor the
// cookie lacks a field (400 validation_failed on refresh_token), while a
// sign-out with neither a Bearer nor a refresh token is a protected call
// without credentials (401 missing_token).
func TestRefreshWithoutToken(t *testing.T) {
	h := newHarness(t, options{})
	own := map[string]string{"Origin": h.URL}
	empty := &http.Cookie{Name: "latchkey_refresh", Value: ""}
	for _, r := range []req{
		{},
		{Body: `{}`},
		{Body: `{"refresh_token":""}`},
		{Body: `{"refresh_token":null}`},
		{Header: own},
		{Header: own, Cookie: empty},
		{Header: map[string]string{"Origin": h.URL, "Cookie": "other=1"}},
	} {
		r.Method, r.Path = "POST", "/api/auth/refresh"
		m := h.Do(r).Labeled("refresh with no token").Problem(t, 400, "validation_failed")
		errs, _ := m["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["field"] != "refresh_token" {
			t.Errorf("refresh with no token (body %v): errors = %v, want one naming refresh_token", r.Body, m["errors"])
		}
		r.Path = "/api/auth/signout"
		h.Do(r).Labeled("sign-out with no token").Problem(t, 401, "missing_token")
	}
}
