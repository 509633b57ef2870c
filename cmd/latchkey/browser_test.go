package main

// Browser tests of the web app: the real binary (built by TestMain) serving
// the embedded app, driven in Debian's headless chromium through chromedp.
// Helpers are in browser_helpers_test.go. With LATCHKEY_SCREENSHOTS=1 the
// screenshot test writes docs/screenshots/*.png.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/latchkey/latchkey/internal/testkit"
)

const browserPW = "correct horse battery staple"

// signUpUI signs up through the sign-up screen and waits for the task list.
func signUpUI(tb *tab, name, email, pw string) {
	tb.t.Helper()
	tb.find("link", "Create an account").click()
	tb.find("heading", "Create your account").wait()
	tb.find("textbox", "Name").fill(name)
	tb.find("textbox", "Email").fill(email)
	tb.find("textbox", "Password").fill(pw)
	tb.find("button", "Sign up").click()
	tb.find("heading", "Tasks").wait()
}

// signInUI signs in through the sign-in screen and waits for the task list.
func signInUI(tb *tab, email, pw string) {
	tb.t.Helper()
	tb.find("heading", "Sign in").wait()
	tb.find("textbox", "Email").fill(email)
	tb.find("textbox", "Password").fill(pw)
	tb.find("button", "Sign in").click()
	tb.find("heading", "Tasks").wait()
}

// addTaskUI adds a task through the New task form and waits for its row.
func addTaskUI(tb *tab, title, description string) {
	tb.t.Helper()
	form := tb.find("form", "New task")
	form.find("textbox", "Title").fill(title)
	form.find("textbox", "Description").fill(description)
	form.find("button", "Add task").click()
	tb.find("checkbox", title).wait()
	if v := form.find("textbox", "Title").prop("value"); v != `""` {
		tb.fail("the Title field still holds %s after adding", v)
	}
}

// noErrorShown fails when an error message is on screen.
func noErrorShown(tb *tab, when string) {
	tb.t.Helper()
	shown := eval[[]string](tb, `[...document.querySelectorAll('.form-error, .field-error, .toast-error, .notice-warning, .notice-error, .empty[role=alert]')]
		.map((e) => e.textContent.trim()).filter(Boolean)`)
	if len(shown) > 0 {
		tb.fail("%s: error shown: %q", when, shown)
	}
}

// The whole life of a task list in one walk: sign-up, three tasks, complete,
// filter, edit, delete, reload.
func TestBrowserTaskWalk(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	tb := b.newTab("walk", false)
	tb.open(p.base + "/")

	// A visitor lands on sign-in; the password rule shows before sign-up.
	if h := tb.hash(); h != "#/signin" {
		t.Errorf("first screen is %q, want #/signin", h)
	}
	tb.find("link", "Create an account").click()
	tb.waitText("Use 8 to 128 characters")
	tb.find("textbox", "Email").fill("ada@example.com")
	tb.find("textbox", "Password").fill("short")
	tb.find("button", "Sign up").click()
	tb.waitText("Password must be 8 to 128 characters.")
	if n := len(tb.responsesTo("POST", "/api/auth/signup")); n != 0 {
		t.Errorf("a password breaking the rule was sent to the server (%d sign-up calls)", n)
	}
	tb.find("link", "Sign in").click()
	signUpUI(tb, "Ada", "ada@example.com", browserPW)
	tb.waitText("No tasks yet")

	addTaskUI(tb, "Buy milk", "Two litres, semi-skimmed")
	addTaskUI(tb, "Write report", "")
	addTaskUI(tb, "Call the plumber", "")
	tb.waitTasks("Call the plumber", "Write report", "Buy milk")
	tb.waitText("Two litres, semi-skimmed")

	// Complete one.
	tb.find("checkbox", "Write report").click()
	tb.waitJS("Write report completed", `document.querySelector('.task.done .task-title')?.textContent === 'Write report'`)
	if got := tb.find("checkbox", "Write report").prop("checked"); got != "true" {
		t.Errorf("Write report checkbox checked = %s after clicking it", got)
	}

	// Filter.
	tb.find("button", "Completed").click()
	tb.waitTasks("Write report")
	if got := tb.find("button", "Completed").prop("ariaPressed"); got != `"true"` {
		t.Errorf("Completed filter aria-pressed = %s", got)
	}
	tb.find("button", "Pending").click()
	tb.waitTasks("Call the plumber", "Buy milk")
	tb.find("button", "All").click()
	tb.waitTasks("Call the plumber", "Write report", "Buy milk")

	// Edit title and description.
	tb.find("checkbox", "Buy milk").find("button", "Edit").click()
	edit := tb.find("form", "Edit task")
	edit.find("textbox", "Title").fill("Buy oat milk")
	edit.find("textbox", "Description").fill("One carton")
	edit.find("button", "Save").click()
	tb.waitTasks("Call the plumber", "Write report", "Buy oat milk")
	tb.waitText("One carton")
	tb.waitNoText("Two litres, semi-skimmed")

	// Delete asks first; Cancel keeps the task, Delete removes it.
	tb.find("checkbox", "Call the plumber").find("button", "Delete").click()
	confirm := tb.find("group", "Delete “Call the plumber”? This cannot be undone.")
	confirm.find("button", "Cancel").click()
	tb.find("checkbox", "Call the plumber").find("button", "Delete").click()
	confirm.find("button", "Delete").click()
	tb.waitTasks("Write report", "Buy oat milk")
	tb.waitText("Task deleted.")

	// Reload: the session comes back from the cookie, and so does the list,
	// as the server has it.
	tb.reload()
	tb.find("heading", "Tasks").wait()
	tb.waitTasks("Write report", "Buy oat milk")
	if got := tb.find("checkbox", "Write report").prop("checked"); got != "true" {
		t.Errorf("after reload, Write report checked = %s", got)
	}
	tb.waitText("One carton")
	noErrorShown(tb, "after reload")

	// The access token never leaves memory: no web storage, no readable cookie.
	if s := eval[string](tb, `JSON.stringify([localStorage.length, sessionStorage.length, document.cookie])`); s != `[0,0,""]` {
		t.Errorf("web storage or readable cookies in use: [localStorage, sessionStorage, cookie] = %s", s)
	}

	// Sign out: back to sign-in, and a reload stays signed out.
	tb.find("button", "Sign out").click()
	tb.find("heading", "Sign in").wait()
	tb.waitText("You have signed out.")
	tb.reload()
	tb.find("heading", "Sign in").wait()
	tb.checkClean(p.base)
}

// Tasks beyond the first page come with Load more; empty filters say so.
func TestBrowserLoadMoreAndEmptyStates(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	c := testkit.NewClient(t, p.base, nil)
	g := c.SignUp("many@example.com", browserPW, "Many")
	for i := 1; i <= 23; i++ {
		c.Call("POST", "/api/"+g.User.ID+"/tasks", g.AccessToken, map[string]string{"title": fmt.Sprintf("Task %02d", i)}).
			WantStatus(t, http.StatusCreated)
	}
	tb := b.newTab("many", false)
	tb.open(p.base + "/")
	// Hold the first list request: the list says it is loading meanwhile.
	release := holdRequests(tb, "*/tasks?*")
	signInUI(tb, "many@example.com", browserPW)
	tb.waitText("Loading tasks…")
	if got := eval[string](tb, `document.querySelector('.task-list').getAttribute('aria-busy')`); got != "true" {
		t.Errorf("task list aria-busy = %q while loading", got)
	}
	release()
	tb.waitNoText("Loading tasks…")

	var first []string
	for i := 23; i >= 4; i-- {
		first = append(first, fmt.Sprintf("Task %02d", i))
	}
	tb.waitTasks(first...)
	tb.find("button", "Load more").click()
	tb.waitTasks(append(first, "Task 03", "Task 02", "Task 01")...)
	tb.find("button", "Load more").waitGone()

	tb.find("button", "Completed").click()
	tb.waitText("No completed tasks yet")
	tb.find("button", "Pending").click()
	// Completing a task takes it off the Pending list; unticking it under
	// Completed takes it back.
	tb.find("checkbox", "Task 23").click()
	tb.find("checkbox", "Task 23").waitGone()
	tb.find("button", "Completed").click()
	tb.waitTasks("Task 23")
	tb.find("checkbox", "Task 23").click()
	tb.waitText("No completed tasks yet")
	tb.find("button", "Pending").click()
	tb.find("checkbox", "Task 23").wait()
	tb.checkClean(p.base)
}

// An access token that expires while the app is open is refreshed on the
// next call, once even for calls failing together, and the person sees no
// error.
func TestBrowserAccessTokenExpiresMidUse(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"), "--access-ttl", "2s")
	tb := b.newTab("expiry", false)
	tb.open(p.base + "/")
	signUpUI(tb, "Tess", "tess@example.com", browserPW)
	addTaskUI(tb, "Before expiry", "")

	// expire lets the access token run out: 2 s TTL, whole-second iat,
	// 0.2 s leeway. This wait only lets time pass; what follows asserts.
	expire := func() { time.Sleep(3 * time.Second) }

	expire()
	mark := tb.responseCount()
	addTaskUI(tb, "After expiry", "")
	tb.waitTasks("After expiry", "Before expiry")
	wantRefreshed(tb, mark, "POST", "/api/"+userID(tb)+"/tasks", 1)
	noErrorShown(tb, "adding a task with an expired token")

	// Two calls failing together (the account screen loads the profile and
	// the sessions at once) share one refresh.
	expire()
	mark = tb.responseCount()
	tb.find("link", "Account").click()
	tb.find("button", "Revoke").wait()
	tb.waitText("This device")
	wantRefreshed(tb, mark, "GET", "/api/auth/sessions", 2)
	noErrorShown(tb, "opening the account screen with an expired token")

	expire()
	mark = tb.responseCount()
	tb.find("link", "Tasks").click()
	tb.waitTasks("After expiry", "Before expiry")
	tb.find("checkbox", "Before expiry").click()
	tb.waitJS("Before expiry completed", `document.querySelector('.task.done .task-title')?.textContent === 'Before expiry'`)
	wantRefreshed(tb, mark, "PATCH", "/tasks/", 1)
	noErrorShown(tb, "completing a task with an expired token")
	tb.checkClean(p.base)
}

// userID is the signed-in user's id, read from the app's requests.
func userID(tb *tab) string {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, r := range tb.responses {
		if i := strings.Index(r.URL, "/api/"); i >= 0 && strings.Contains(r.URL, "/tasks") {
			rest := r.URL[i+len("/api/"):]
			return rest[:strings.Index(rest, "/")]
		}
	}
	tb.t.Fatalf("%s: no task request seen, so no user id", tb.name)
	return ""
}

// wantRefreshed checks the answers after mark: at least minRejected 401s,
// then exactly one refresh (200), then method path answered 2xx.
func wantRefreshed(tb *tab, mark int, method, path string, minRejected int) {
	tb.t.Helper()
	var rejected, refreshes, okAfter int
	var log strings.Builder
	for _, r := range tb.responsesSince(mark) {
		fmt.Fprintf(&log, "  %s %s %d\n", r.Method, r.URL, r.Status)
		switch {
		case r.Status == http.StatusUnauthorized:
			rejected++
		case r.Method == "POST" && strings.HasSuffix(r.URL, "/api/auth/refresh"):
			refreshes++
			if r.Status != http.StatusOK {
				tb.t.Errorf("%s: refresh answered %d", tb.name, r.Status)
			}
		case refreshes > 0 && r.Method == method && strings.Contains(r.URL, path) && r.Status < 300:
			okAfter++
		}
	}
	if rejected < minRejected || refreshes != 1 || okAfter == 0 {
		tb.t.Errorf("%s: want >= %d 401s, then exactly 1 refresh, then %s %s answered; got %d, %d, %d:\n%s",
			tb.name, minRejected, method, path, rejected, refreshes, okAfter, log.String())
	}
}

// A wrong password says so next to the form, and a throttled sign-in says
// when to try again.
func TestBrowserSignInErrors(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	testkit.NewClient(t, p.base, nil).SignUp("wendy@example.com", browserPW, "Wendy")
	tb := b.newTab("errors", false)
	tb.open(p.base + "/")
	// A first visit has no cookie: the app's refresh is told so (400
	// validation_failed) and shows sign-in with no message.
	tb.find("heading", "Sign in").wait()
	if r := tb.responsesTo("POST", "/api/auth/refresh"); len(r) != 1 || r[0].Status != http.StatusBadRequest {
		t.Errorf("the first visit's refresh answers = %+v, want one 400", r)
	}
	noErrorShown(tb, "the first visit")

	// Empty fields: told next to each field, nothing sent.
	tb.find("button", "Sign in").click()
	tb.waitText("Enter your email address.")
	tb.waitText("Enter your password.")
	if got := tb.find("textbox", "Email").prop("ariaInvalid"); got != `"true"` {
		t.Errorf("empty Email aria-invalid = %s", got)
	}

	tb.find("textbox", "Email").fill("wendy@example.com")
	tb.find("textbox", "Password").fill("not the password")
	tb.find("button", "Sign in").click()
	tb.waitText("Invalid email or password.")
	if got := eval[string](tb, `document.querySelector('.form-error').textContent`); got != "Invalid email or password." {
		t.Errorf("form error = %q", got)
	}
	if h := tb.hash(); h != "#/signin" {
		t.Errorf("after a wrong password the app is at %q", h)
	}
	if r := tb.responsesTo("POST", "/api/auth/signin"); len(r) != 1 || r[0].Status != http.StatusUnauthorized {
		t.Errorf("sign-in answers = %+v, want one 401", r)
	}

	// Sign-up errors from the server land next to their field.
	tb.find("link", "Create an account").click()
	tb.find("textbox", "Email").fill("wendy@example.com")
	tb.find("textbox", "Password").fill(browserPW)
	tb.find("button", "Sign up").click()
	tb.waitText("An account with this email already exists.")
	if got := eval[string](tb, `document.getElementById(document.querySelector('input[type=email]').getAttribute('aria-describedby').split(' ').pop()).textContent`); !strings.Contains(got, "already exists") {
		t.Errorf("the Email field's error line says %q", got)
	}
	tb.find("textbox", "Email").fill("wendy..x@example.com")
	tb.find("button", "Sign up").click()
	tb.waitText("Email must be a valid email address of at most 254 characters.")

	// After ten failures for one email in 15 minutes the server answers
	// 429 with Retry-After, even to the right password; the app says when
	// to try again. One failure came from the app above; nine more here.
	c := testkit.NewClient(t, p.base, nil)
	for range 9 {
		c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "wendy@example.com", "password": "still not it"}).
			Problem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	tb.find("link", "Sign in").click()
	tb.find("textbox", "Email").fill("wendy@example.com")
	tb.find("textbox", "Password").fill(browserPW)
	tb.find("button", "Sign in").click()
	tb.waitText("Too many attempts. Try again in 15 minutes (at ")
	if r := tb.responsesTo("POST", "/api/auth/signin"); len(r) != 2 || r[1].Status != http.StatusTooManyRequests {
		t.Errorf("sign-in answers = %+v, want a 401 then a 429", r)
	}
	tb.checkClean(p.base)
}

// holdRequests pauses the tab's requests matching pattern (a Fetch
// urlPattern) until the returned func is called; then they, and later
// ones, go on.
func holdRequests(tb *tab, pattern string) (release func()) {
	tb.t.Helper()
	paused := chromedp.Events(tb.ctx, fetch.RequestPaused)
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		tb.fail("enable fetch interception: %v", err)
	}
	gate := make(chan struct{})
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			select {
			case <-gate:
			case <-tb.ctx.Done():
				return
			}
			_, _ = chromedp.Call(tb.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(gate) }) }
}

// A session revoked from another device sends the app to sign-in with a
// message at its next call.
func TestBrowserRevokedFromAnotherDevice(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	laptop := b.newTab("laptop", false)
	laptop.open(p.base + "/")
	signUpUI(laptop, "Rita", "rita@example.com", browserPW)
	addTaskUI(laptop, "Keep me", "")

	phone := b.newTab("phone", true) // its own cookies: another device
	phone.open(p.base + "/")
	signInUI(phone, "rita@example.com", browserPW)
	phone.waitTasks("Keep me")
	phone.find("link", "Account").click()
	phone.waitJS("two sessions", `document.querySelectorAll('.session').length === 2`)
	phone.waitText("This device")
	phone.css(".session:not(.current)").find("button", "Revoke").click()
	phone.waitJS("one session left", `document.querySelectorAll('.session').length === 1 && !!document.querySelector('.session.current')`)

	// The laptop's next call finds its session gone.
	laptop.find("button", "Completed").click()
	laptop.find("heading", "Sign in").wait()
	laptop.waitText("Your session has ended. Please sign in again.")
	laptop.reload()
	laptop.find("heading", "Sign in").wait()
	// Signing in again returns to the tasks.
	signInUI(laptop, "rita@example.com", browserPW)
	laptop.waitTasks("Keep me")
	laptop.checkClean(p.base)
	phone.checkClean(p.base)
}

// "Sign out everywhere else" ends every other session and keeps this one;
// a password change does the same, and a wrong current password is shown
// next to its field.
func TestBrowserSignOutEverywhereElseAndPassword(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	here := b.newTab("main", false)
	here.open(p.base + "/")
	signUpUI(here, "Olga", "olga@example.com", browserPW)

	other := b.newTab("other", true)
	other.open(p.base + "/")
	signInUI(other, "olga@example.com", browserPW)

	here.find("link", "Account").click()
	here.waitJS("two sessions", `document.querySelectorAll('.session').length === 2`)
	here.waitText("olga@example.com")
	here.find("button", "Sign out everywhere else").click()
	here.waitText("Signed out everywhere else.")
	here.waitJS("only this device", `document.querySelectorAll('.session').length === 1 && !!document.querySelector('.session.current')`)

	other.find("button", "Completed").click()
	other.find("heading", "Sign in").wait()
	other.waitText("Your session has ended. Please sign in again.")

	// This device still works.
	here.find("link", "Tasks").click()
	addTaskUI(here, "Still signed in", "")

	// Password change: the wrong current password is refused next to it.
	signInUI(other, "olga@example.com", browserPW)
	here.find("link", "Account").click()
	here.waitJS("two sessions", `document.querySelectorAll('.session').length === 2`)
	// The Change email card asks for the current password too: this one's
	// is in the Change password card.
	pw := here.find("heading", "Change password")
	pw.find("textbox", "Current password").fill("wrong password here")
	pw.find("textbox", "New password").fill("a brand new passphrase")
	pw.find("button", "Change password").click()
	here.waitText("Current password is not correct.")
	if got := pw.find("textbox", "Current password").prop("ariaInvalid"); got != `"true"` {
		t.Errorf("Current password aria-invalid = %s", got)
	}
	pw.find("textbox", "Current password").fill(browserPW)
	pw.find("button", "Change password").click()
	here.waitText("Password changed.")
	here.waitJS("only this device", `document.querySelectorAll('.session').length === 1`)

	other.find("button", "Pending").click()
	other.find("heading", "Sign in").wait()
	other.waitText("Your session has ended. Please sign in again.")
	signInUI(other, "olga@example.com", "a brand new passphrase")
	other.waitTasks("Still signed in")
	here.checkClean(p.base)
	other.checkClean(p.base)
}

// Tabs share one session: opened together they restore it without
// tripping reuse detection (the server here has no grace window), signing
// out in one signs out the others, and signing in in one signs in the
// others.
func TestBrowserTabsFollowEachOther(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"), "--refresh-grace", "0")
	one := b.newTab("tab one", false)
	one.open(p.base + "/")
	signUpUI(one, "Tabby", "tabby@example.com", browserPW)

	// Two more tabs load at the same moment; each refreshes from the cookie.
	two, three := b.newTab("tab two", false), b.newTab("tab three", false)
	var wg sync.WaitGroup
	for _, tb := range []*tab{two, three} {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
			defer cancel()
			_ = chromedp.Do(ctx, chromedp.Navigate(p.base+"/"))
		})
	}
	wg.Wait()
	for _, tb := range []*tab{two, three, one} {
		tb.find("heading", "Tasks").wait()
		tb.find("button", "Completed").click() // an API call with this tab's token
		tb.waitText("No completed tasks yet")
		noErrorShown(tb, "after two tabs restored the session together")
	}
	one.find("button", "Sign out").click()
	one.find("heading", "Sign in").wait()
	for _, tb := range []*tab{two, three} {
		tb.find("heading", "Sign in").wait()
		tb.waitText("You signed out in another tab.")
	}

	signInUI(two, "tabby@example.com", browserPW)
	one.find("heading", "Tasks").wait()
	three.find("heading", "Tasks").wait()
	for _, tb := range []*tab{one, two, three} {
		tb.checkClean(p.base)
	}
}

// A task titled with markup shows the markup as text and runs nothing.
func TestBrowserTitleIsText(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	tb := b.newTab("xss", false)
	tb.open(p.base + "/")
	signUpUI(tb, `<b>Mallory</b>`, "mallory@example.com", browserPW)

	const title = `<img src=x onerror=alert(1)>`
	const desc = `<script>alert(2)</script><svg onload=alert(3)>`
	addTaskUI(tb, title, desc)
	check := func(when string) {
		t.Helper()
		tb.find("checkbox", title).wait()
		got := eval[[]string](tb, `[document.querySelector('.task-title').textContent, document.querySelector('.task-desc').textContent,
			String(document.querySelectorAll('main img, main script, main svg').length), document.getElementById('user-name').textContent]`)
		want := []string{title, desc, "0", "<b>Mallory</b>"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: title, description, injected elements, name = %q, want %q", when, got, want)
		}
	}
	check("after adding")
	tb.find("checkbox", title).find("button", "Edit").click()
	edit := tb.find("form", "Edit task")
	if v := edit.find("textbox", "Title").prop("value"); v != jsonText(title) {
		t.Errorf("edit field holds %s", v)
	}
	edit.find("button", "Save").click()
	tb.reload()
	check("after reload")
	tb.find("link", "Account").click()
	tb.waitText("<b>Mallory</b>")
	for _, r := range tb.responsesTo("GET", "/x") {
		t.Errorf("the page requested %s: the markup was parsed", r.URL)
	}
	tb.checkClean(p.base) // no dialog, no exception, no CSP violation
}

// A form on another origin that posts to the refresh endpoint gets no
// tokens. From a same-site page (another port of 127.0.0.1) the browser
// sends the SameSite=Strict cookie, and the server's Origin check answers
// 403; from another site (localhost) the browser also withholds the cookie,
// and the server still answers 403. Either way the session is untouched and
// refreshes from the app as before.
func TestBrowserCrossSiteRefreshRefused(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Win a prize</title>
<form id="f" method="POST" action="%s/api/auth/refresh"></form>
<script>document.getElementById('f').submit();</script>`, p.base)
	}))
	t.Cleanup(attacker.Close)
	sameSite := attacker.URL                                                // http://127.0.0.1:PORT
	crossSite := strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1) // another site

	tb := b.newTab("victim", false)
	tb.open(p.base + "/")
	signUpUI(tb, "Vic", "vic@example.com", browserPW)
	addTaskUI(tb, "Secret plan", "")

	for _, attack := range []struct {
		name, origin string
		cookieSent   bool
	}{
		{"same-site page on another port", sameSite, true},
		{"cross-site page", crossSite, false},
	} {
		before := len(tb.responsesTo("POST", "/api/auth/refresh"))
		tb.step("visit "+attack.origin, chromedp.Navigate(attack.origin+"/"))
		tb.waitJS("the form post to be answered", fmt.Sprintf(`location.href === %s`, js(p.base+"/api/auth/refresh")))
		answers := tb.responsesTo("POST", "/api/auth/refresh")[before:]
		if len(answers) != 1 || answers[0].Status != http.StatusForbidden {
			t.Errorf("%s: refresh answers %+v, want one 403", attack.name, answers)
		} else if sent := slices.Contains(tb.cookiesOf(answers[0]), "latchkey_refresh"); sent != attack.cookieSent {
			t.Errorf("%s: refresh cookie sent = %v, want %v (cookies %q)", attack.name, sent, attack.cookieSent, tb.cookiesOf(answers[0]))
		}
		if body := tb.text(); strings.Contains(body, "access_token") || strings.Contains(body, "refresh_token") {
			t.Errorf("%s: the answer carries tokens: %s", attack.name, body)
		}
	}

	// The session is intact: the app restores it from the same cookie.
	before := len(tb.responsesTo("POST", "/api/auth/refresh"))
	tb.open(p.base + "/")
	tb.find("heading", "Tasks").wait()
	tb.waitTasks("Secret plan")
	if answers := tb.responsesTo("POST", "/api/auth/refresh")[before:]; len(answers) != 1 || answers[0].Status != http.StatusOK {
		t.Errorf("the app's own refresh after the attacks: %+v, want one 200", answers)
	}
	tb.checkClean(p.base, sameSite, crossSite)
}

// A page on another port of 127.0.0.1 shares the host's cookies, as a page
// on a sibling subdomain shares its parent domain's: it plants a second
// latchkey_refresh cookie, holding Mallory's refresh token, at a more
// specific path, so the browser sends it first. The victim's app must not
// come up signed in to Mallory's account: the refresh carrying both is
// refused and both are cleared, so the app shows sign-in, and so does the
// next load; signing in again works as before.
func TestBrowserCookieTossing(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	mallory := testkit.NewClient(t, p.base, nil).SignUp("mallory@example.com", browserPW, "Mallory")
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "latchkey_refresh", Value: mallory.RefreshToken, Path: "/api/auth/refresh", HttpOnly: true})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Win a prize</title><p>Thanks!</p>`)
	}))
	t.Cleanup(attacker.Close)

	tb := b.newTab("victim", false)
	tb.open(p.base + "/")
	signUpUI(tb, "Vic", "vic@example.com", browserPW)
	addTaskUI(tb, "Secret plan", "")

	tb.step("visit the planting page", chromedp.Navigate(attacker.URL+"/"))
	before := len(tb.responsesTo("POST", "/api/auth/refresh"))
	tb.open(p.base + "/")
	tb.find("heading", "Sign in").wait()
	tb.waitText("Your session has ended.")
	answers := tb.responsesTo("POST", "/api/auth/refresh")[before:]
	if len(answers) != 1 || answers[0].Status != http.StatusUnauthorized {
		t.Errorf("the refresh with two cookies: answers %+v, want one 401", answers)
	} else if sent := tb.cookiesOf(answers[0]); len(sent) != 2 || sent[0] != "latchkey_refresh" || sent[1] != "latchkey_refresh" {
		t.Errorf("the refresh sent cookies %q, want two latchkey_refresh", sent)
	}
	if strings.Contains(tb.text(), "Mallory") {
		t.Errorf("the app shows Mallory's account:\n%s", tb.text())
	}

	// Both cookies are gone: the next load sends none and shows sign-in.
	before = len(tb.responsesTo("POST", "/api/auth/refresh"))
	tb.reload()
	tb.find("heading", "Sign in").wait()
	answers = tb.responsesTo("POST", "/api/auth/refresh")[before:]
	if len(answers) != 1 || answers[0].Status != http.StatusBadRequest || len(tb.cookiesOf(answers[0])) != 0 {
		t.Errorf("the next load's refresh: answers %+v, cookies %q; want one 400 with no cookie", answers, tb.cookiesOf(answers[len(answers)-1]))
	}
	if strings.Contains(tb.text(), "Mallory") {
		t.Errorf("the app shows Mallory's account:\n%s", tb.text())
	}

	// Vic signs in again, and the session survives a reload.
	signInUI(tb, "vic@example.com", browserPW)
	tb.waitTasks("Secret plan")
	tb.reload()
	tb.find("heading", "Tasks").wait()
	tb.waitTasks("Secret plan")
	tb.checkClean(p.base, attacker.URL)
}

// Everything can be done with the keyboard alone, with a visible focus ring.
func TestBrowserKeyboardOnly(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	testkit.NewClient(t, p.base, nil).SignUp("kim@example.com", browserPW, "Kim")
	tb := b.newTab("keyboard", false)
	tb.open(p.base + "/")

	focused := func() string {
		return eval[string](tb, `(() => { const e = document.activeElement; return e ? (e.labels && e.labels[0] ? e.labels[0].textContent : e.textContent.trim()) : ''; })()`)
	}
	// tabTo presses Tab until the focused element is named name (bounded).
	tabTo := func(name string) {
		t.Helper()
		for range 40 {
			if focused() == name {
				return
			}
			tb.press(kb.Tab)
		}
		tb.fail("Tab never reached %q", name)
	}
	// The sign-in screen starts in the Email field.
	if f := focused(); f != "Email" {
		t.Errorf("sign-in focus starts on %q, want Email", f)
	}
	tb.press("kim@example.com")
	tabTo("Password")
	tb.press(browserPW + kb.Enter)
	tb.find("heading", "Tasks").wait()

	tabTo("Title")
	if o := eval[string](tb, `getComputedStyle(document.activeElement).boxShadow + '|' + getComputedStyle(document.activeElement).outlineStyle`); o == "none|none" {
		t.Errorf("the focused Title field shows no focus ring")
	}
	tb.press("Typed with keys" + kb.Enter)
	tb.find("checkbox", "Typed with keys").wait()
	tabTo("Typed with keys")
	if o := eval[string](tb, `getComputedStyle(document.activeElement).outlineStyle`); o == "none" {
		t.Errorf("the focused checkbox shows no focus ring")
	}
	tb.press(" ")
	tb.waitJS("completed by Space", `document.querySelector('.task.done .task-title')?.textContent === 'Typed with keys'`)
	tabTo("Sign out")
	tb.press(kb.Enter)
	tb.find("heading", "Sign in").wait()
	tb.checkClean(p.base)
}

// The main screens at desktop and phone width: nothing wider than the
// screen. With LATCHKEY_SCREENSHOTS=1 they are saved under docs/screenshots:
// sign-in, tasks (light and dark) and Account, and the recovery screens
// (the verify banner, Change email with the Not verified badge, Forgot your
// password? once sent, reset by code). The mail goes to a test SMTP server,
// so that the address can be verified by its code before the main screens
// are taken.
func TestBrowserScreens(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p, box := serveWithMail(t)
	tb := b.newTab("screens", false)

	fits := func(screen string, width int) {
		t.Helper()
		if w := eval[int](tb, `document.documentElement.scrollWidth`); w > width {
			t.Errorf("%s: page is %d px wide in a %d px window", screen, w, width)
		}
	}
	for _, size := range []struct {
		name          string
		email         string
		width, height int64
		mobile        bool
	}{
		{"desktop", "ada@example.com", 1280, 1000, false},
		{"mobile", "ada.lovelace@example.com", 375, 812, true},
	} {
		email := size.email
		tb.viewport(size.width, size.height, size.mobile)
		tb.colorScheme("light")
		tb.open(p.base + "/")
		tb.find("heading", "Sign in").wait()
		fits("sign-in "+size.name, int(size.width))
		tb.screenshot("signin-" + size.name)

		signUpUI(tb, "Ada Lovelace", email, browserPW)
		_, verifyCode := linkAndCode(t, p, box.wait(t, email, "Verify your email address"), "verify")
		for _, task := range []struct{ title, desc string }{
			{"Draft the quarterly report", "Numbers from finance, charts from last quarter"},
			{"Book flights to Lisbon", ""},
			{"Renew passport", "Photo booth at the post office first"},
			{"Call the plumber about the kitchen tap", ""},
		} {
			addTaskUI(tb, task.title, task.desc)
		}
		tb.find("checkbox", "Book flights to Lisbon").click()
		tb.waitJS("a completed task", `!!document.querySelector('.task.done')`)

		// Not verified yet: the banner above the tasks, and on Account the
		// badge and the Change email card (with a new address typed in).
		banner := tb.find("region", "Verify your email")
		banner.wait()
		tb.step("scroll", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		fits("tasks with the banner "+size.name, int(size.width))
		tb.screenshot("verify-banner-" + size.name)
		tb.find("link", "Account").click()
		tb.waitJS("the email marked unverified", `document.getElementById('profile-email')?.textContent === `+js(email+" Not verified"))
		card := tb.find("heading", "Change email")
		card.find("textbox", "New email").fill("ada.byron@example.com")
		// No caret or focus ring in the picture. On a desktop the Profile card
		// (with the badge) comes first under the top bar, and Change email
		// fits below; a phone shows the Change email card from its top.
		tb.step("scroll", chromedp.Evaluate[chromedp.Void](`(() => {
			document.activeElement.blur();
			const card = document.querySelector(innerWidth < 600 ? '[aria-labelledby=email-heading]' : '[aria-labelledby=profile-heading]');
			window.scrollTo(0, scrollY + card.getBoundingClientRect().top - document.getElementById('topbar').offsetHeight - 16);
		})()`))
		tb.waitJS("the focus ring gone (it fades)", `getComputedStyle(document.querySelector('input[name=new_email]')).boxShadow === 'none'`)
		fits("account, change email "+size.name, int(size.width))
		tb.screenshot("change-email-" + size.name)

		// Verified by the banner's code: the main screens without the banner.
		banner.find("button", "Enter code").click()
		tb.find("textbox", "Verification code").fill(verifyCode)
		tb.find("form", "Verify your email with a code").find("button", "Verify").click()
		banner.waitGone()
		tb.waitJS("the email marked verified", `document.getElementById('profile-email')?.textContent === `+js(email+" Verified"))
		tb.find("link", "Tasks").click()
		tb.find("checkbox", "Book flights to Lisbon").wait()
		// On a phone, show the list rather than the form above it.
		tb.step("scroll", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, innerWidth < 600 ? document.querySelector('.list-card').offsetTop - 110 : 0)`))
		fits("tasks "+size.name, int(size.width))
		tb.screenshot("tasks-" + size.name)
		if !size.mobile {
			// Dark, from a fresh load: the session comes back from the cookie.
			tb.colorScheme("dark")
			tb.reload()
			tb.find("checkbox", "Book flights to Lisbon").wait()
			fits("tasks dark", int(size.width))
			tb.screenshot("tasks-desktop-dark")
			tb.colorScheme("light")
			tb.reload()
			tb.find("checkbox", "Book flights to Lisbon").wait()
		}

		// A second device, so that the sessions list shows one to revoke.
		phone := "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
		testkit.NewClient(t, p.base, nil).Call("POST", "/api/auth/signin", "", map[string]string{"email": email, "password": browserPW}, "User-Agent", phone).
			Grant(t, http.StatusOK)
		tb.find("link", "Account").click()
		tb.waitJS("two sessions", `document.querySelectorAll('.session').length === 2`)
		tb.waitText("Safari on iOS")
		tb.step("scroll", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, innerWidth < 600 ? document.querySelector('.session-list').closest('.card').offsetTop - 110 : 0)`))
		fits("account "+size.name, int(size.width))
		tb.screenshot("account-" + size.name)
		tb.find("button", "Sign out").click()
		tb.find("heading", "Sign in").wait()

		// Forgot your password?, once sent; then the reset form by code,
		// filled in with the mailed code and a new password (not sent).
		tb.find("link", "Forgot your password?").click()
		tb.find("heading", "Forgot your password?").wait()
		tb.find("textbox", "Email").fill(email)
		tb.find("button", "Send reset link").click()
		tb.waitText("If an account exists for " + email + ", we sent a link and a code to it.")
		fits("forgot, sent "+size.name, int(size.width))
		tb.screenshot("forgot-" + size.name)
		tb.find("link", "Enter the code").click()
		tb.find("heading", "Choose a new password").wait()
		// A made-up code, so that the picture is the same from run to run.
		tb.find("textbox", "Code").fill("482913")
		tb.find("textbox", "New password").fill("a completely new passphrase")
		tb.step("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
		tb.waitJS("the focus ring gone (it fades)", `getComputedStyle(document.querySelector('input[name=new_password]')).boxShadow === 'none'`)
		fits("reset by code "+size.name, int(size.width))
		tb.screenshot("reset-" + size.name)
	}
	tb.checkClean(p.base)
}
