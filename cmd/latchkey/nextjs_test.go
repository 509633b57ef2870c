package main

// The seeds' system, end to end, in a real browser: the Next.js app of
// examples/nextjs-better-auth (a production build) where Better Auth signs
// people up and issues JWTs, and Latchkey beside it trusting them on the
// task routes, called from the browser directly (CORS). Helpers are in
// nextjs_helpers_test.go and browser_helpers_test.go.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/testkit"
)

// nextJWTLife is the Better Auth JWT's expirationTime in this test: short,
// so that it expires during the test. Latchkey allows nextLeeway of clock
// skew on exp (LATCHKEY_TRUSTED_LEEWAY; 30 s by default), so it refuses
// the token about 6 s after it was issued.
const (
	nextJWTLife = 5 * time.Second
	nextLeeway  = time.Second
)

// TestNextJSBetterAuth: sign-up through Better Auth in the Next.js app; tasks
// added, listed, completed and deleted through Latchkey with Better Auth's
// JWT (checked on Latchkey's side too); another user's path answered 403
// and shown as such; an expired JWT replaced by a new one from Better Auth
// after one 401 token_expired; no token in web storage; after sign-out, no
// request reaches Latchkey, from the tab signed out in or from another tab
// of the app, which leaves its task list for the sign-in page; a token of
// another user than the page's (the session changed in another tab) is
// never sent.
func TestNextJSBetterAuth(t *testing.T) {
	t.Parallel()
	dir := needNextApp(t)
	needChromium(t) // before building anything: skip (or fail under CI) first
	start := time.Now()

	port := freeLoopbackPort(t)
	appBase := "http://127.0.0.1:" + strconv.Itoa(port)
	const audience = "latchkey-api"
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"),
		"--trusted-jwks-url", appBase+"/api/auth/jwks",
		"--trusted-issuer", appBase, "--trusted-audience", audience,
		"--cors-origins", appBase, "--trusted-leeway", nextLeeway.String())

	env := []string{
		"NEXT_TELEMETRY_DISABLED=1",
		"BETTER_AUTH_URL=" + appBase,
		"BETTER_AUTH_SECRET=" + randomHex(32),
		"AUTH_DATABASE=" + filepath.Join(t.TempDir(), "auth.db"),
		"JWT_AUDIENCE=" + audience,
		"JWT_EXPIRATION=" + strconv.Itoa(int(nextJWTLife.Seconds())) + "s",
		"LATCHKEY_URL=" + p.base, // read by the server at request time
	}
	built := nodeIn(t, dir, env, "node_modules/next/dist/bin/next", "build")
	app := startNextApp(t, dir, port, env)
	t.Logf("next build took %v; the app answered %v after the test started", built.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	b := startBrowser(t)
	tb := b.newTab("nextjs", false)
	api := watchOrigin(tb, p.base)
	lk := testkit.NewClient(t, p.base, nil)

	// 1. Sign-up, through Better Auth, in the page.
	tb.navigate(app.base + "/")
	tb.find("heading", "Sign in").wait()
	tb.find("link", "Create an account").click()
	tb.find("heading", "Create your account").wait()
	nextSignUp(tb, "Ada Lovelace", "ada@example.com", "analytical engine 1843")
	sub := strings.TrimSuffix(strings.TrimPrefix(eval[string](tb, `location.pathname`), "/u/"), "/tasks")
	if sub == "" || strings.Contains(sub, "/") {
		tb.fail("the task list's path %q names no user", eval[string](tb, `location.pathname`))
	}
	tasksPath := "/api/" + sub + "/tasks"

	// 2. Tasks added in the page, listed, newest first.
	titles := []string{"Buy milk", "Walk the dog", "Write the notes"}
	for _, title := range titles {
		form := tb.find("form", "New task")
		form.find("textbox", "Title").fill(title)
		form.find("button", "Add task").click()
		tb.find("checkbox", title).wait()
	}
	tb.waitJS("three tasks, newest first", `JSON.stringify([...document.querySelectorAll('ul.tasks .title')].map((e) => e.textContent)) === `+
		js(`["Write the notes","Walk the dog","Buy milk"]`))

	// They reached Latchkey with Better Auth's JWT, obtained from
	// /api/auth/token, and Latchkey keeps them under the JWT's sub.
	if n := len(tb.responsesTo("GET", "/api/auth/token")); n != 1 {
		tb.fail("GET /api/auth/token answered %d times, want once (one token, kept for every call)", n)
	}
	tok := api.lastBearer()
	if tok == "" {
		tb.fail("no request to Latchkey carried a Bearer token")
	}
	if h := testkit.JSONPart(t, tok, 0); h["alg"] != "EdDSA" {
		t.Errorf("the Bearer token's header = %v, want Better Auth's EdDSA", h)
	}
	if c := testkit.JSONPart(t, tok, 1); c["iss"] != appBase || c["aud"] != audience || c["sub"] != sub {
		t.Errorf("the Bearer token's claims: iss %v aud %v sub %v, want %s %s %s", c["iss"], c["aud"], c["sub"], appBase, audience, sub)
	}
	for _, r := range api.all() {
		if r.Method != "OPTIONS" && r.Bearer != tok {
			t.Errorf("%s %s carried another token than Better Auth's (or none)", r.Method, r.URL)
		}
	}
	latchkeyTasks := func(tok string) map[string]bool {
		t.Helper()
		r := lk.Call("GET", tasksPath, tok, nil)
		r.WantStatus(t, http.StatusOK)
		var page struct {
			Tasks []struct {
				Title     string `json:"title"`
				Completed bool   `json:"completed"`
			} `json:"tasks"`
		}
		r.Decode(t, &page)
		m := map[string]bool{}
		for _, x := range page.Tasks {
			m[x.Title] = x.Completed
		}
		return m
	}
	if got := latchkeyTasks(tok); len(got) != 3 || got["Buy milk"] || got["Walk the dog"] || got["Write the notes"] {
		t.Errorf("Latchkey holds %v, want the three tasks, none completed", got)
	}

	// 3. One completed, one deleted; Latchkey agrees.
	tb.find("checkbox", "Buy milk").click()
	tb.waitJS("Buy milk checked", `[...document.querySelectorAll('ul.tasks li')].some((li) => li.textContent.includes('Buy milk') && li.querySelector('input').checked && li.classList.contains('done'))`)
	tb.find("button", "Delete Walk the dog").click()
	tb.find("checkbox", "Walk the dog").waitGone()
	if got := latchkeyTasks(tok); len(got) != 2 || !got["Buy milk"] || got["Write the notes"] {
		t.Errorf("Latchkey holds %v, want Buy milk completed and Write the notes pending", got)
	}

	// 4. Another user's path: Latchkey answers 403, and the page says so.
	tb.navigate(app.base + "/u/someone-else/tasks")
	tb.waitText("These tasks belong to another account.")
	if rs := tb.responsesTo("GET", "/api/someone-else/tasks"); len(rs) != 1 || rs[0].Status != http.StatusForbidden {
		tb.fail("GET /api/someone-else/tasks answered %v, want one 403", rs)
	}
	if tb.find("form", "New task").present() {
		tb.fail("the New task form is shown on another user's tasks")
	}
	tb.find("link", "Go to your tasks").click()
	tb.find("heading", "Your tasks").wait()
	tb.find("checkbox", "Write the notes").wait()

	// 5. The token expires. Latchkey refuses it (polled from here with the
	// page's token, by exp + the leeway and a little), then the next call in the
	// page gets one 401 token_expired, fetches a new token from Better
	// Auth once, and succeeds with it.
	old := api.lastBearer()
	exp := time.Unix(int64(testkit.JSONPart(t, old, 1)["exp"].(float64)), 0)
	waited, expired := testkit.Poll(time.Until(exp)+nextLeeway+5*time.Second, 200*time.Millisecond, func() bool {
		return lk.Call("GET", tasksPath, old, nil).Status == http.StatusUnauthorized
	})
	if !expired {
		t.Fatalf("Latchkey still accepts the page's token %v after it expired", time.Since(exp))
	}
	lk.Call("GET", tasksPath, old, nil).Problem(t, http.StatusUnauthorized, "token_expired")
	t.Logf("Latchkey refused the expired token %v after its exp (waited %v)", time.Since(exp).Round(time.Second), waited.Round(time.Second))
	tokenFetches := len(tb.responsesTo("GET", "/api/auth/token"))
	mark := tb.responseCount()
	form := tb.find("form", "New task")
	form.find("textbox", "Title").fill("After expiry")
	form.find("button", "Add task").click()
	tb.find("checkbox", "After expiry").wait()
	if shown := eval[[]string](tb, `[...document.querySelectorAll('[role=alert]')].map((e) => e.textContent)`); len(shown) > 0 {
		tb.fail("after the token expired, the page shows %q", shown)
	}
	var seq []string
	var expiredAt, tokenAt, createdAt = -1, -1, -1
	var retried sentRequest
	for i, r := range tb.responsesSince(mark) {
		u, _ := url.Parse(r.URL)
		switch {
		case r.Method == "POST" && u.Path == tasksPath && r.Status == http.StatusUnauthorized:
			var problem struct{ Code string }
			_ = json.Unmarshal(tb.responseBody(r.ID), &problem)
			seq = append(seq, "401 "+problem.Code)
			if problem.Code == "token_expired" && expiredAt < 0 {
				expiredAt = i
			}
		case r.Method == "GET" && u.Path == "/api/auth/token":
			seq = append(seq, fmt.Sprintf("token %d", r.Status))
			if r.Status == http.StatusOK && tokenAt < 0 {
				tokenAt = i
			}
		case r.Method == "POST" && u.Path == tasksPath:
			seq = append(seq, strconv.Itoa(int(r.Status)))
			if r.Status == http.StatusCreated && createdAt < 0 {
				createdAt = i
				retried, _ = api.byID(r.ID)
			}
		}
	}
	if expiredAt < 0 || tokenAt < expiredAt || createdAt < tokenAt {
		tb.fail("adding a task with an expired token went %v; want 401 token_expired, then a new token from Better Auth, then 201", seq)
	}
	if n := len(tb.responsesTo("GET", "/api/auth/token")) - tokenFetches; n != 1 {
		t.Errorf("the page fetched %d tokens after the expiry, want 1", n)
	}
	if retried.Bearer == "" || retried.Bearer == old {
		t.Errorf("the retried POST did not carry a new token")
	}
	if got := latchkeyTasks(retried.Bearer); len(got) != 3 || got["After expiry"] {
		t.Errorf("Latchkey holds %v, want After expiry among them", got)
	}

	// No token in web storage or in a cookie the page can read.
	held := eval[string](tb, `JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])`)
	for _, x := range []string{old, retried.Bearer} {
		parts := strings.Split(x, ".")
		if len(parts) == 3 && (strings.Contains(held, parts[1]) || strings.Contains(held, parts[2])) {
			t.Errorf("a Better Auth JWT is kept in web storage or a script-readable cookie")
		}
	}

	// 6. Sign-out: Better Auth's session ends, and from then on nothing
	// reaches Latchkey, whatever the page is asked to do: going back to a
	// task list (restored by the router or loaded again), the window
	// regaining focus, opening the task list's address. A second tab of the
	// same browser, on the task list with a token of its own, hears of the
	// sign-out: it sends Latchkey nothing more and shows the sign-in page.
	tb2 := b.newTab("nextjs second tab", false)
	api2 := watchOrigin(tb2, p.base)
	tb2.navigate(app.base + "/u/" + sub + "/tasks")
	tb2.find("heading", "Your tasks").wait()
	tb2.find("checkbox", "After expiry").wait()
	if api2.lastBearer() == "" {
		tb2.fail("the second tab's list reached Latchkey without a Bearer token")
	}
	// Counted before the click: a request sent between the click and the
	// navigation counts.
	sent, sent2 := api.count(), api2.count()
	noneSince := func(when string) {
		t.Helper()
		for _, x := range []struct {
			tb   *tab
			log  *originLog
			sent int
		}{{tb, api, sent}, {tb2, api2, sent2}} {
			if after := x.log.all()[x.sent:]; len(after) != 0 {
				var what []string
				for _, r := range after {
					what = append(what, r.Method+" "+r.URL)
				}
				x.tb.fail("after sign-out (%s) the tab sent %d requests to Latchkey: %v", when, len(after), what)
			}
		}
	}
	tb.find("button", "Sign out").click()
	tb.find("heading", "Sign in").wait()
	tb2.find("heading", "Sign in").wait()
	if at := eval[string](tb2, `location.pathname`); at != "/sign-in" {
		tb2.fail("after a sign-out in the other tab, the second tab is at %s, want /sign-in", at)
	}
	noneSince("the second tab hearing of it")
	tb.step("go back", chromedp.NavigateBack())
	tb.waitJS("the page after going back", `location.pathname !== '/sign-in'`)
	// The router shows the cached page, whose task list asks Better Auth
	// for a token (401: signed out) and stops; or the server sends the
	// visitor to sign in.
	tb.waitJS("the page after going back to settle", `!!document.querySelector('[role=alert]') || location.pathname === '/sign-in'`)
	noneSince("going back to a task list")
	if eval[string](tb, `location.pathname`) != "/sign-in" {
		tb.waitText("You are signed out.")
	}
	_ = eval[bool](tb, `(window.dispatchEvent(new Event('focus')), document.dispatchEvent(new Event('visibilitychange')), true)`)
	tb.navigate(app.base + "/u/" + sub + "/tasks")
	tb.find("heading", "Sign in").wait() // the server sends a signed-out visitor to sign in
	_ = eval[bool](tb, `(fetch('/api/auth/token', {cache: 'no-store'}).then((r) => { window.__tokenStatus = r.status; }), true)`)
	tb.waitJS("the token request to end", `window.__tokenStatus !== undefined`)
	if st := eval[int](tb, `window.__tokenStatus`); st != http.StatusUnauthorized {
		t.Errorf("after sign-out, /api/auth/token answers %d, want 401", st)
	}
	_ = eval[bool](tb2, `(window.dispatchEvent(new Event('focus')), document.dispatchEvent(new Event('visibilitychange')), true)`)
	// Something the pages might do later (a poll, a timer) gets time to.
	time.Sleep(2 * time.Second)
	noneSince("focus, opening the task list, 2 s")

	// 7. The session changes to another user under an open page: Ada signs
	// in again in the first tab, then Bob signs up in the second tab of
	// the same browser (its cookie is now Bob's). When Ada's token
	// expires, the first tab's next call gets Bob's token from Better
	// Auth; the page does not send it to Latchkey for Ada's tasks, and
	// says that someone else is signed in now.
	tb.find("textbox", "Email").fill("ada@example.com")
	tb.find("textbox", "Password").fill("analytical engine 1843")
	tb.find("button", "Sign in").click()
	tb.find("heading", "Your tasks").wait()
	tb.find("checkbox", "After expiry").wait()
	ada := api.lastBearer()
	if c := testkit.JSONPart(t, ada, 1); c["sub"] != sub {
		t.Fatalf("after signing in again, the first tab's token is of %v, want %s", c["sub"], sub)
	}
	tb2.navigate(app.base + "/sign-up")
	nextSignUp(tb2, "Bob Bobson", "bob@example.com", "difference engine 1822")
	exp = time.Unix(int64(testkit.JSONPart(t, ada, 1)["exp"].(float64)), 0)
	if _, expired := testkit.Poll(time.Until(exp)+nextLeeway+5*time.Second, 200*time.Millisecond, func() bool {
		return lk.Call("GET", tasksPath, ada, nil).Status == http.StatusUnauthorized
	}); !expired {
		t.Fatalf("Latchkey still accepts Ada's second token %v after it expired", time.Since(exp))
	}
	before := api.count()
	form = tb.find("form", "New task")
	form.find("textbox", "Title").fill("Not as Bob")
	form.find("button", "Add task").click()
	tb.waitText("You are signed in as someone else now.")
	for _, r := range api.all()[before:] {
		if r.Method != "OPTIONS" && r.Bearer != ada {
			tb.fail("with Bob signed in, the page of Ada's tasks sent %s %s with another token than Ada's", r.Method, r.URL)
		}
	}

	tb.checkClean(app.base, p.base)
	tb2.checkClean(app.base, p.base)
	var tok2 string // the second tab's token, before Bob's
	for _, r := range api2.all() {
		if r.Bearer != "" {
			tok2 = r.Bearer
			break
		}
	}
	bob := api2.lastBearer()
	testkit.AssertNoSecrets(t, p.log.String(), tok, old, retried.Bearer, tok2, ada, bob)
	testkit.AssertNoSecrets(t, app.log.String(), tok, old, retried.Bearer, tok2, ada, bob)
	t.Logf("the whole test took %v", time.Since(start).Round(time.Millisecond))
}

// nextSignUp fills the example's sign-up form, open in tb, and waits for
// the new user's empty task list.
func nextSignUp(tb *tab, name, email, password string) {
	tb.find("textbox", "Name").fill(name)
	tb.find("textbox", "Email").fill(email)
	tb.find("textbox", "Password").fill(password)
	tb.find("button", "Sign up").click()
	tb.find("heading", "Your tasks").wait()
	tb.waitText("No tasks yet.")
}
