package main

// TestJSClientBrowser drives clients/js/example, the tiny page that uses
// @latchkey/client (the compiled dist/, no build) against Latchkey alone,
// in Chromium. The page is served as a real deployment serves it: one
// origin that serves the page and the package and reverse-proxies /api/ to
// Latchkey, whose LATCHKEY_ISSUER is that origin, so that the HttpOnly
// refresh cookie works and passes the CSRF Origin check.

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/testkit"
)

// exampleCSP is the page's Content-Security-Policy: its own scripts only.
const exampleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// exampleSite is the example page's origin, and the Latchkey behind it.
type exampleSite struct {
	url      string // http://127.0.0.1:PORT: the page, the package and /api/
	latchkey *proc
}

// startExampleSite starts Latchkey (2 s access tokens) behind a loopback
// server that serves clients/js/example at /, clients/js/dist at /client/
// and proxies /api/ to Latchkey.
func startExampleSite(t *testing.T) *exampleSite {
	t.Helper()
	js, err := filepath.Abs(jsClientDir)
	if err != nil {
		t.Fatal(err)
	}
	// The listener first: Latchkey's issuer is the page's origin.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://" + ln.Addr().String()
	db := filepath.Join(t.TempDir(), "lk.db")
	lk := spawn(t, filepath.Dir(db), childEnv("LATCHKEY_ACCESS_TTL=2s", "LATCHKEY_ISSUER="+origin),
		"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:"+db).waitReady(t)
	target, err := url.Parse(lk.base)
	if err != nil {
		t.Fatal(err)
	}
	// SetURL sends Latchkey its own Host: the cookie calls' Origin (this
	// site) is accepted only because it is LATCHKEY_ISSUER's.
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	static := http.FileServer(http.Dir(filepath.Join(js, "example")))
	pkg := http.StripPrefix("/client/", http.FileServer(http.Dir(filepath.Join(js, "dist"))))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			proxy.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", exampleCSP)
		w.Header().Set("Cache-Control", "no-store")
		if strings.HasPrefix(r.URL.Path, "/client/") {
			pkg.ServeHTTP(w, r)
			return
		}
		static.ServeHTTP(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &exampleSite{url: origin, latchkey: lk}
}

// refreshCookie is the latchkey_refresh cookie the browser holds for the
// site, or nil.
func refreshCookie(tb *tab, site string) *network.Cookie {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{site + "/api/auth/refresh"}})
	if err != nil {
		tb.fail("read the cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "latchkey_refresh" {
			return c
		}
	}
	return nil
}

// noTokenStored fails when the page keeps anything in web storage or a
// cookie a script can read.
func noTokenStored(tb *tab, when string) {
	tb.t.Helper()
	if s := eval[string](tb, `JSON.stringify([localStorage.length, sessionStorage.length, document.cookie])`); s != `[0,0,""]` {
		tb.t.Errorf("%s: %s: web storage or a readable cookie in use: [localStorage, sessionStorage, cookie] = %s", tb.name, when, s)
	}
}

// addExampleTask adds a task through the page's New task form and waits
// until the list is want.
func addExampleTask(tb *tab, title string, want ...string) {
	tb.t.Helper()
	form := tb.find("form", "New task")
	form.find("textbox", "Title").fill(title)
	form.find("button", "Add task").click()
	tb.waitTasks(want...)
}

// refreshesSince are the answers to POST /api/auth/refresh after mark.
func refreshesSince(tb *tab, mark int) []response {
	var out []response
	for _, r := range tb.responsesSince(mark) {
		if r.Method == "POST" && strings.HasSuffix(r.URL, "/api/auth/refresh") {
			out = append(out, r)
		}
	}
	return out
}

func TestJSClientBrowser(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	site := startExampleSite(t)
	const email = "page@example.com"
	tb := b.newTab("example", false)

	// A first visit: nobody is signed in, and the restore found no cookie.
	tb.open(site.url + "/")
	tb.waitText("Not signed in")
	if rs := refreshesSince(tb, 0); len(rs) != 1 || rs[0].Status != http.StatusBadRequest {
		t.Errorf("first visit: want one refresh answered 400 (no cookie yet), got %v\n%s", rs, tb.responseLog())
	}

	// Sign up, and a first task.
	tb.find("textbox", "Email").fill(email)
	tb.find("textbox", "Password").fill(browserPW)
	tb.find("button", "Sign up").click()
	tb.waitText("Signed in as " + email)
	tb.find("heading", "Tasks").wait()
	addExampleTask(tb, "Before expiry", "Before expiry")
	signedUp := refreshCookie(tb, site.url)
	if signedUp == nil || !signedUp.HTTPOnly || signedUp.Path != "/api/auth" || signedUp.SameSite != network.CookieSameSiteStrict {
		t.Fatalf("after sign-up: want an HttpOnly, SameSite=Strict latchkey_refresh cookie at /api/auth, got %+v", signedUp)
	}
	noTokenStored(tb, "after sign-up")

	// The access token runs out (2 s life, 0.2 s leeway, whole-second iat);
	// this sleep only lets time pass. The next action succeeds through
	// exactly one silent refresh that sent the cookie.
	time.Sleep(3 * time.Second)
	mark := tb.responseCount()
	addExampleTask(tb, "After expiry", "After expiry", "Before expiry")
	wantRefreshed(tb, mark, "POST", "/tasks", 1)
	if rs := refreshesSince(tb, mark); len(rs) == 1 && !slices.Contains(tb.cookiesOf(rs[0]), "latchkey_refresh") {
		t.Errorf("the silent refresh did not send the refresh cookie: %v", tb.cookiesOf(rs[0]))
	}
	if c := refreshCookie(tb, site.url); c == nil || c.Value == signedUp.Value {
		t.Errorf("the refresh did not rotate the cookie")
	}
	if s := eval[string](tb, `document.getElementById('error').textContent`); s != "" {
		t.Errorf("an error is shown after the silent refresh: %q", s)
	}
	noTokenStored(tb, "after the refresh")

	// A reload keeps nothing but the HttpOnly cookie, and is still signed in.
	mark = tb.responseCount()
	tb.reload()
	tb.waitText("Signed in as " + email)
	tb.waitTasks("After expiry", "Before expiry")
	if rs := refreshesSince(tb, mark); len(rs) != 1 || rs[0].Status != http.StatusOK {
		t.Errorf("reload: want one refresh answered 200 (restored from the cookie), got %v\n%s", rs, tb.responseLog())
	}
	noTokenStored(tb, "after reload")

	// Sign out: the cookie is cleared and Latchkey refuses it from then on;
	// a reload shows nobody signed in.
	held := refreshCookie(tb, site.url)
	tb.find("button", "Sign out").click()
	tb.waitText("Not signed in")
	tb.find("heading", "Tasks").waitGone()
	if rs := tb.responsesTo("POST", "/api/auth/signout"); len(rs) != 1 || rs[0].Status != http.StatusNoContent {
		t.Errorf("sign-out: want one POST /api/auth/signout answered 204, got %v", rs)
	}
	if c := refreshCookie(tb, site.url); c != nil {
		t.Errorf("after sign-out the browser still holds the refresh cookie %q", c.Name)
	}
	mark = tb.responseCount()
	tb.reload()
	tb.waitText("Not signed in")
	if rs := refreshesSince(tb, mark); len(rs) != 1 || rs[0].Status != http.StatusBadRequest || len(tb.cookiesOf(rs[0])) != 0 {
		t.Errorf("reload after sign-out: want one refresh without a cookie, answered 400; got %v\n%s", rs, tb.responseLog())
	}
	lk := testkit.NewClient(t, site.latchkey.base, nil)
	lk.Call("POST", "/api/auth/refresh", "", map[string]string{"refresh_token": held.Value}).Problem(t, http.StatusUnauthorized, "token_revoked")
	noTokenStored(tb, "after sign-out")

	tb.checkClean(site.url)
	testkit.AssertNoSecrets(t, site.latchkey.log.String(), browserPW, held.Value, signedUp.Value)
}
