package main

// Browser tests of account recovery and email (issue 13): the server sends
// its mail over real SMTP to internal/smtptest, and the tests follow the
// mailed link in the tab or type the mailed code, as a person would.

import (
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/smtptest"
	"github.com/latchkey/latchkey/internal/testkit"
)

// serveWithMail runs the binary with its mail going to a test SMTP server
// (plain SMTP to loopback) and LATCHKEY_ISSUER naming the address it
// listens on, so that mailed links lead back to this server.
func serveWithMail(t *testing.T, extra ...string) (*proc, *mailbox) {
	t.Helper()
	smtp := smtptest.Start(t, smtptest.Options{})
	// The issuer must name the port before the server starts: take a free
	// one and give it back (another process could take it in between; the
	// server would then fail to start, and the test with it).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	args := append([]string{"serve", "--addr", addr, "--issuer", "http://" + addr, "--database-url", "sqlite:" + dbPath}, extra...)
	p := spawn(t, filepath.Dir(dbPath), childEnv("LATCHKEY_SMTP_URL="+smtp.URL()), args...).waitReady(t)
	if p.base != "http://"+addr {
		t.Fatalf("the server listens on %s, not on %s", p.base, addr)
	}
	return p, &mailbox{smtp: smtp, taken: map[*smtptest.Message]bool{}}
}

// mailbox hands out the received mails one at a time, by recipient and
// subject, whatever order they arrived in.
type mailbox struct {
	smtp  *smtptest.Server
	mu    sync.Mutex
	taken map[*smtptest.Message]bool
}

// wait returns the first mail to `to` with this subject not returned
// before, waiting up to mailWait for it.
func (m *mailbox) wait(t *testing.T, to, subject string) *smtptest.Message {
	t.Helper()
	deadline := time.Now().Add(mailWait)
	for {
		m.mu.Lock()
		for _, msg := range m.smtp.Messages() {
			if !m.taken[msg] && msg.To == to && msg.Subject == subject {
				m.taken[msg] = true
				m.mu.Unlock()
				return msg
			}
		}
		m.mu.Unlock()
		if time.Now().After(deadline) {
			var got []string
			for _, msg := range m.smtp.Messages() {
				got = append(got, fmt.Sprintf("%s %q", msg.To, msg.Subject))
			}
			t.Fatalf("no mail %q to %s within %v; received: %q", subject, to, mailWait, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// linkAndCode checks that a mail carries a link to route on the server and
// one code, and returns them.
func linkAndCode(t *testing.T, p *proc, msg *smtptest.Message, route string) (link, code string) {
	t.Helper()
	link, code = msg.Link(), msg.Code()
	if !strings.HasPrefix(link, p.base+"/#/"+route+"?token=") {
		t.Fatalf("mail %q: link %q, want %s/#/%s?token=…; text:\n%s", msg.Subject, link, p.base, route, msg.Text)
	}
	if len(code) != 6 {
		t.Fatalf("mail %q: no single 6-digit code; text:\n%s", msg.Subject, msg.Text)
	}
	return link, code
}

// tokenKept checks that a link's token went to the server only in a POST
// body: in no request URL, not in the page's URL, and in no web storage.
func tokenKept(tb *tab, link string) {
	tb.t.Helper()
	token := link[strings.Index(link, "token=")+len("token="):]
	tb.mu.Lock()
	for _, r := range tb.requests {
		if strings.Contains(r, token) {
			tb.t.Errorf("%s: a request URL carries the link's token: %s", tb.name, r)
		}
	}
	tb.mu.Unlock()
	if href := eval[string](tb, `location.href`); strings.Contains(href, "token") {
		tb.t.Errorf("%s: the page's URL still carries the token: %s", tb.name, href)
	}
	if s := eval[string](tb, `JSON.stringify([localStorage.length, sessionStorage.length])`); s != `[0,0]` {
		tb.t.Errorf("%s: web storage in use: [localStorage, sessionStorage] = %s", tb.name, s)
	}
}

// wantAnswers checks the statuses the page got from method path, in order.
func wantAnswers(tb *tab, method, path string, want ...int) {
	tb.t.Helper()
	var got []int
	for _, r := range tb.responsesTo(method, path) {
		got = append(got, int(r.Status))
	}
	if !slices.Equal(got, want) {
		tb.t.Errorf("%s: %s %s answered %v, want %v", tb.name, method, path, got, want)
	}
}

// Sign up, receive the mail, verify by opening its link in the tab: the
// banner asking for it goes away, and the session stays. A link that is
// not (or no longer) good says so clearly and offers a new one.
func TestBrowserVerifyEmailByLink(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p, box := serveWithMail(t)
	tb := b.newTab("verify", false)
	tb.open(p.base + "/")
	signUpUI(tb, "Vera", "vera@example.com", browserPW)
	banner := tb.find("region", "Verify your email")
	banner.wait()
	tb.waitText("We sent a link and a code to vera@example.com.")
	link, _ := linkAndCode(t, p, box.wait(t, "vera@example.com", "Verify your email address"), "verify")

	// Resend is answered 202 (within the cooldown nothing more is sent).
	banner.find("button", "Resend").click()
	tb.waitText("We sent a new link and code to vera@example.com.")
	wantAnswers(tb, "POST", "/api/auth/email/verify/resend", http.StatusAccepted)

	// A link that is no good: a clear message, and a way to a new one.
	tb.open(p.base + "/#/verify?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	tb.find("button", "Verify my email address").click()
	tb.waitText("This verification link is invalid, already used or expired.")
	tb.find("button", "Send a new link").wait()
	wantAnswers(tb, "POST", "/api/auth/email/verify", http.StatusBadRequest)

	// The mailed link, opened in the tab: nothing is used until the
	// person clicks (a scanner that runs the page verifies nothing).
	tb.open(link)
	verifyButton := tb.find("button", "Verify my email address")
	verifyButton.wait()
	wantAnswers(tb, "POST", "/api/auth/email/verify", http.StatusBadRequest)
	verifyButton.click()
	tb.waitText("Your email address is verified.")
	wantAnswers(tb, "POST", "/api/auth/email/verify", http.StatusBadRequest, http.StatusOK)
	tokenKept(tb, link)
	if h := tb.hash(); h != "#/verify" {
		t.Errorf("after verifying the app is at %q, want #/verify", h)
	}
	tb.find("link", "Go to your tasks").click()
	tb.find("heading", "Tasks").wait()
	banner.waitGone()
	tb.find("button", "Completed").click() // an API call: this session was kept
	tb.waitText("No completed tasks yet")
	noErrorShown(tb, "after verifying")

	// The server agrees: a reload shows no banner, and Account says so.
	tb.reload()
	tb.find("heading", "Tasks").wait()
	banner.waitGone()
	tb.find("link", "Account").click()
	tb.waitJS("the email marked verified", `document.getElementById('profile-email')?.textContent === 'vera@example.com Verified'`)
	tb.checkClean(p.base)
}

// The banner's code form verifies too, and an unverified address is told
// apart on the Account screen.
func TestBrowserVerifyEmailByCodeInBanner(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p, box := serveWithMail(t)
	tb := b.newTab("banner code", false)
	tb.open(p.base + "/")
	signUpUI(tb, "Cody", "cody@example.com", browserPW)
	_, code := linkAndCode(t, p, box.wait(t, "cody@example.com", "Verify your email address"), "verify")
	tb.find("link", "Account").click()
	tb.waitJS("the email marked unverified", `document.getElementById('profile-email')?.textContent === 'cody@example.com Not verified'`)

	banner := tb.find("region", "Verify your email")
	banner.find("button", "Enter code").click()
	if got := banner.find("button", "Enter code").prop("ariaExpanded"); got != `"true"` {
		t.Errorf("Enter code aria-expanded = %s once open", got)
	}
	field := tb.find("textbox", "Verification code")
	if got := eval[string](tb, `(() => { const e = document.activeElement; return [e.labels[0].textContent, e.inputMode, e.autocomplete].join('|'); })()`); got != "Verification code|numeric|one-time-code" {
		t.Errorf("focus after Enter code: label|inputmode|autocomplete = %q", got)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	field.fill(wrong)
	tb.press("\r")
	tb.waitText("This code is wrong, already used or expired.")
	field.fill(code)
	tb.find("form", "Verify your email with a code").find("button", "Verify").click()
	tb.waitText("Your email address is verified.")
	banner.waitGone()
	tb.waitJS("the email marked verified", `document.getElementById('profile-email')?.textContent === 'cody@example.com Verified'`)
	wantAnswers(tb, "POST", "/api/auth/email/verify", http.StatusBadRequest, http.StatusOK)
	tb.checkClean(p.base)
}

// Forgot password, then the mail, then reset by code, then sign in with
// the new password. A weak new password is refused next to its field and
// leaves the code usable; the mail's link, once the code has used the
// token, says clearly that it is used and offers a new one.
func TestBrowserForgotAndResetByCode(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p, box := serveWithMail(t)
	testkit.NewClient(t, p.base, nil).SignUp("rosa@example.com", browserPW, "Rosa")
	const newPW = "a completely new passphrase"
	tb := b.newTab("reset", false)
	tb.open(p.base + "/")

	tb.find("link", "Forgot your password?").click()
	tb.find("heading", "Forgot your password?").wait()
	tb.find("textbox", "Email").fill("rosa@example.com")
	tb.find("button", "Send reset link").click()
	tb.waitText("If an account exists for rosa@example.com, we sent a link and a code to it.")
	wantAnswers(tb, "POST", "/api/auth/password/forgot", http.StatusAccepted)
	link, code := linkAndCode(t, p, box.wait(t, "rosa@example.com", "Reset your password"), "reset")

	tb.find("link", "Enter the code").click()
	tb.find("heading", "Choose a new password").wait()
	if v := tb.find("textbox", "Email").prop("value"); v != `"rosa@example.com"` {
		t.Errorf("the reset form's Email holds %s, want the address given on the forgot screen", v)
	}
	if got := tb.find("textbox", "Code").prop("autocomplete") + tb.find("textbox", "Code").prop("inputMode") +
		tb.find("textbox", "New password").prop("autocomplete"); got != `"one-time-code""numeric""new-password"` {
		t.Errorf("autocomplete and inputmode of Code and New password: %s", got)
	}
	tb.find("textbox", "Code").fill(code)
	tb.find("textbox", "New password").fill("12345678") // among the most common
	tb.find("button", "Set new password").click()
	tb.waitJS("the New password field in error", `document.querySelector('input[name=new_password]').getAttribute('aria-invalid') === 'true'`)
	if v := tb.find("textbox", "Code").prop("value"); v != jsonText(code) {
		t.Errorf("after a weak password the Code field holds %s", v)
	}
	tb.find("textbox", "New password").fill(newPW)
	tb.find("button", "Set new password").click()
	tb.find("heading", "Sign in").wait()
	tb.waitText("Password changed. Sign in with your new password.")
	wantAnswers(tb, "POST", "/api/auth/password/reset", http.StatusBadRequest, http.StatusNoContent)
	box.wait(t, "rosa@example.com", "Your password was changed")

	tb.find("textbox", "Email").fill("rosa@example.com")
	tb.find("textbox", "Password").fill(browserPW)
	tb.find("button", "Sign in").click()
	tb.waitText("Invalid email or password.")
	tb.find("textbox", "Password").fill(newPW)
	tb.find("button", "Sign in").click()
	tb.find("heading", "Tasks").wait()

	// The mail's link: its token was used by the code.
	tb.open(link)
	tb.find("heading", "Choose a new password").wait()
	tokenKept(tb, link)
	tb.find("textbox", "New password").fill("yet another passphrase")
	tb.find("button", "Set new password").click()
	tb.waitText("This reset link is invalid, already used or expired.")
	tb.find("link", "Send me a new link").click()
	tb.find("heading", "Forgot your password?").wait()
	tokenKept(tb, link)
	tb.checkClean(p.base)
}

// Change email on the Account screen: request, read the code from the
// mail at the new address, confirm; the Account screen shows the new
// address. A wrong current password is told next to its field.
func TestBrowserChangeEmailByCode(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p, box := serveWithMail(t)
	tb := b.newTab("change", false)
	tb.open(p.base + "/")
	signUpUI(tb, "Cleo", "cleo@example.com", browserPW)
	tb.find("link", "Account").click()
	card := tb.find("heading", "Change email")
	card.find("textbox", "New email").fill("cleo.new@example.com")
	card.find("textbox", "Current password").fill("not my password")
	card.find("button", "Send confirmation code").click()
	tb.waitJS("Current password in error", `document.querySelector('input[name=current_password][autocomplete=current-password][aria-invalid=true]') !== null`)
	card.find("textbox", "Current password").fill(browserPW)
	card.find("button", "Send confirmation code").click()
	tb.waitText("We sent a code and a link to cleo.new@example.com.")
	wantAnswers(tb, "POST", "/api/auth/email/change", http.StatusBadRequest, http.StatusAccepted)
	_, code := linkAndCode(t, p, box.wait(t, "cleo.new@example.com", "Confirm your new email address"), "email-change")
	box.wait(t, "cleo@example.com", "Your email address is being changed")

	form := tb.find("form", "Confirm your new email address")
	form.find("textbox", "Code").fill(code)
	form.find("button", "Confirm new address").click()
	tb.waitText("Your email address is now cleo.new@example.com.")
	tb.waitJS("the new address on Account", `document.getElementById('profile-email')?.textContent === 'cleo.new@example.com Verified'`)
	tb.find("region", "Verify your email").waitGone() // the new address is verified by the change
	wantAnswers(tb, "POST", "/api/auth/email/change/confirm", http.StatusOK)

	tb.reload()
	tb.find("heading", "Account").wait()
	tb.waitJS("the new address after reload", `document.getElementById('profile-email')?.textContent === 'cleo.new@example.com Verified'`)
	noErrorShown(tb, "after the change")
	tb.checkClean(p.base)
}

// An address taken by another account between the request and the code
// is refused clearly (409 email_taken), and the address stays as it was.
func TestBrowserChangeEmailTakenMeanwhile(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p, box := serveWithMail(t)
	tb := b.newTab("taken", false)
	tb.open(p.base + "/")
	signUpUI(tb, "Tara", "tara@example.com", browserPW)
	tb.find("link", "Account").click()
	card := tb.find("heading", "Change email")
	card.find("textbox", "New email").fill("wanted@example.com")
	card.find("textbox", "Current password").fill(browserPW)
	card.find("button", "Send confirmation code").click()
	tb.waitText("We sent a code and a link to wanted@example.com.")
	_, code := linkAndCode(t, p, box.wait(t, "wanted@example.com", "Confirm your new email address"), "email-change")
	testkit.NewClient(t, p.base, nil).SignUp("wanted@example.com", browserPW, "Quicker")

	form := tb.find("form", "Confirm your new email address")
	form.find("textbox", "Code").fill(code)
	form.find("button", "Confirm new address").click()
	tb.waitText("That address now belongs to another account")
	wantAnswers(tb, "POST", "/api/auth/email/change/confirm", http.StatusConflict)
	if got := eval[string](tb, `document.getElementById('profile-email')?.textContent`); got != "tara@example.com Not verified" {
		t.Errorf("the profile shows %q after a refused change", got)
	}
	tb.checkClean(p.base)
}

// The email-change link opened while signed out asks to sign in first,
// then confirms with the token it kept in memory; the token never shows
// in a URL. A second use of the link says it is used.
func TestBrowserChangeEmailLinkSignsInFirst(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p, box := serveWithMail(t)
	c := testkit.NewClient(t, p.base, nil)
	g := c.SignUp("liam@example.com", browserPW, "Liam")
	c.Call("POST", "/api/auth/email/change", g.AccessToken, map[string]string{"new_email": "liam.new@example.com", "current_password": browserPW}).
		WantStatus(t, http.StatusAccepted)
	link, _ := linkAndCode(t, p, box.wait(t, "liam.new@example.com", "Confirm your new email address"), "email-change")

	tb := b.newTab("link", false)
	tb.open(link)
	tb.find("heading", "Sign in").wait()
	tb.waitText("Sign in to confirm your new email address.")
	tokenKept(tb, link)
	signIn := func() {
		tb.find("textbox", "Email").fill("liam@example.com")
		tb.find("textbox", "Password").fill(browserPW)
		tb.find("button", "Sign in").click()
	}
	signIn()
	tb.find("heading", "Confirm your new email address").wait()
	tb.waitText("Your email address is now liam.new@example.com.")
	wantAnswers(tb, "POST", "/api/auth/email/change/confirm", http.StatusOK)
	if h := tb.hash(); h != "#/email-change" {
		t.Errorf("after confirming the app is at %q", h)
	}
	tb.find("link", "Go to your account").click()
	tb.waitJS("the new address on Account", `document.getElementById('profile-email')?.textContent === 'liam.new@example.com Verified'`)

	// The same link again: used.
	tb.open(link)
	tb.waitText("This link is invalid, already used or expired")
	wantAnswers(tb, "POST", "/api/auth/email/change/confirm", http.StatusOK, http.StatusBadRequest)
	tokenKept(tb, link)
	tb.checkClean(p.base)
}

// With LATCHKEY_REQUIRE_VERIFIED_EMAIL, sign-up signs nobody in and says
// to check the mail, and a sign-in before verifying says a new link went
// out; verifying by the code on the verify screen then lets the person in.
func TestBrowserRequireVerifiedEmail(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p, box := serveWithMail(t, "--require-verified-email", "true")
	tb := b.newTab("required", false)
	tb.open(p.base + "/")
	tb.find("link", "Create an account").click()
	tb.find("textbox", "Name").fill("Nina")
	tb.find("textbox", "Email").fill("nina@example.com")
	tb.find("textbox", "Password").fill(browserPW)
	tb.find("button", "Sign up").click()
	tb.find("heading", "Sign in").wait()
	tb.waitText("Check your mail to verify your address, then sign in.")
	wantAnswers(tb, "POST", "/api/auth/signup", http.StatusCreated)
	_, code := linkAndCode(t, p, box.wait(t, "nina@example.com", "Verify your email address"), "verify")

	tb.find("textbox", "Email").fill("nina@example.com")
	tb.find("textbox", "Password").fill(browserPW)
	tb.find("button", "Sign in").click()
	tb.waitText("Verify your email address first: we sent you a new link.")
	wantAnswers(tb, "POST", "/api/auth/signin", http.StatusForbidden)
	// Within the cooldown no new mail goes out: the first one's code is
	// still the one to type.

	tb.find("link", "I have a verification code").click()
	tb.find("heading", "Verify your email address").wait()
	tb.find("textbox", "Email").fill("nina@example.com")
	tb.find("textbox", "Code").fill(code)
	tb.find("button", "Verify").click()
	tb.waitText("Your email address is verified.")
	tb.find("link", "Continue to sign in").click()
	signInUI(tb, "nina@example.com", browserPW)
	tb.find("region", "Verify your email").waitGone()
	tb.checkClean(p.base)
}

// The recovery screens work by keyboard alone and fit a phone's width:
// from sign-in, Tab reaches "Forgot your password?", each screen starts in
// its first field to fill, and the answer takes focus when the form goes.
func TestBrowserRecoveryKeyboardAndPhone(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	tb := b.newTab("keys", false)
	tb.viewport(375, 812, true)
	tb.open(p.base + "/")
	tb.find("heading", "Sign in").wait()

	focused := func() string {
		return eval[string](tb, `(() => { const e = document.activeElement; return e ? (e.labels && e.labels[0] ? e.labels[0].textContent : e.textContent.trim()) : ''; })()`)
	}
	tabTo := func(name string) {
		t.Helper()
		for range 20 {
			if focused() == name {
				return
			}
			tb.press("\t")
		}
		tb.fail("Tab never reached %q", name)
	}
	fits := func(screen string) {
		t.Helper()
		if w := eval[int](tb, `document.documentElement.scrollWidth`); w > 375 {
			t.Errorf("%s: page is %d px wide in a 375 px window", screen, w)
		}
	}
	fits("sign-in")
	tabTo("Forgot your password?")
	tb.press("\r")
	tb.find("heading", "Forgot your password?").wait()
	tb.waitJS("focus in Email", `document.activeElement?.labels?.[0]?.textContent === 'Email'`)
	fits("forgot")
	tb.press("kim@example.com\r")
	tb.waitText("If an account exists for kim@example.com")
	if !eval[bool](tb, `document.activeElement.classList.contains('notice')`) {
		t.Errorf("after sending, focus is on %q, not on the message", focused())
	}
	fits("forgot, sent")
	tabTo("Enter the code")
	tb.press("\r")
	tb.find("heading", "Choose a new password").wait()
	tb.waitJS("focus in Code (the address is filled in)", `document.activeElement?.labels?.[0]?.textContent === 'Code'`)
	fits("reset by code")
	tb.press("12\r")
	tb.waitText("The code is 6 digits.")
	if n := len(tb.responsesTo("POST", "/api/auth/password/reset")); n != 0 {
		t.Errorf("a code that is not 6 digits was sent (%d reset calls)", n)
	}

	tb.open(p.base + "/#/verify")
	tb.find("heading", "Verify your email address").wait()
	fits("verify")
	tb.find("link", "Sign in").click()
	signUpUI(tb, "Kim", "kim@example.com", browserPW)
	tb.find("region", "Verify your email").find("button", "Enter code").click()
	tb.waitJS("focus in the banner's code field", `document.activeElement?.labels?.[0]?.textContent === 'Verification code'`)
	fits("tasks with the banner")
	tb.find("link", "Account").click()
	tb.find("heading", "Change email").wait()
	fits("account")
	tb.checkClean(p.base)
}
