package main

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/internal/testkit"
)

// The account screen lists sessions a page at a time: past the first 50,
// Load more brings the rest, and a revocation afterwards keeps the list as
// long as it was.
func TestBrowserSessionsLoadMore(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"), "--auth-rate", "0")
	c := testkit.NewClient(t, p.base, nil)
	c.SignUp("devices@example.com", browserPW, "Many Devices")
	for range 51 {
		c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "devices@example.com", "password": browserPW},
			"User-Agent", "curl/8.0").WantStatus(t, http.StatusOK)
	}
	tb := b.newTab("devices", false)
	tb.open(p.base + "/")
	signInUI(tb, "devices@example.com", browserPW) // the 53rd session
	tb.find("link", "Account").click()
	tb.waitJS("the first page", `document.querySelectorAll('.session').length === 50`)
	if !eval[bool](tb, `document.querySelector('.session').classList.contains('current')`) {
		t.Error("this device is not listed first")
	}
	tb.find("button", "Load more").click()
	tb.waitJS("every session", `document.querySelectorAll('.session').length === 53`)
	tb.find("button", "Load more").waitGone()
	tb.waitText("Loaded 3 more sessions.")
	if got := eval[string](tb, `document.activeElement.textContent`); got != "Revoke" {
		t.Errorf("focus after the last page is on %q, want a Revoke button", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('.session.current').length`); n != 1 {
		t.Errorf("%d sessions marked this device", n)
	}

	// Revoking one of them reloads the list at its length, not at a page.
	eval[bool](tb, `(document.querySelectorAll('.session:not(.current) button')[51].click(), true)`)
	tb.waitJS("52 sessions", `document.querySelectorAll('.session').length === 52`)
	tb.find("button", "Load more").waitGone()
	noErrorShown(tb, "after revoking a session")
	tb.checkClean(p.base)
}
