package main

// Browser tests of passkeys (issue 14) with Chromium's virtual
// authenticator (the DevTools WebAuthn domain): add a passkey on the
// Account screen, sign in with it, use it as the second step after a
// password, and see a device that does not verify the user refused.
//
// Chromium refuses an IP address as the relying party's ID, so these
// servers are reached as http://localhost:PORT, which is also their issuer
// (the RP ID "localhost" and the origin follow from it).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// serveLocalhost runs the binary on 127.0.0.1 with the issuer
// http://localhost:PORT and returns that base.
func serveLocalhost(t *testing.T) (p *proc, base string) {
	t.Helper()
	// The issuer must name the port before the server starts: take a free
	// one and give it back (another process could take it in between; the
	// server would then fail to start, and the test with it).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	base = "http://localhost:" + itoa(addr.Port)
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	p = spawn(t, filepath.Dir(dbPath), childEnv(), "serve", "--addr", addr.String(), "--issuer", base, "--database-url", "sqlite:"+dbPath).waitReady(t)
	return p, base
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// authenticator adds a virtual CTAP2 platform authenticator with resident
// keys and user verification to the tab; verified says whether it
// verifies the user (a fingerprint that matches, or not).
func (tb *tab) authenticator(verified bool) webauthn.AuthenticatorID {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		tb.fail("WebAuthn.enable: %v", err)
	}
	r, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol:                    webauthn.AuthenticatorProtocolCtap2,
		Transport:                   webauthn.AuthenticatorTransportInternal,
		HasResidentKey:              true,
		HasUserVerification:         true,
		IsUserVerified:              verified,
		AutomaticPresenceSimulation: true,
	}})
	if err != nil {
		tb.fail("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return r.AuthenticatorID
}

// devtools runs DevTools commands with a bounded wait.
func (tb *tab) devtools(what string, fn func(ctx context.Context) error) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	if err := fn(ctx); err != nil {
		tb.fail("%s: %v", what, err)
	}
}

// overrideUV makes the authenticator's answers lack the user-verified
// flag (bad) or carry it again.
func overrideUV(tb *tab, auth webauthn.AuthenticatorID, bad bool) {
	tb.t.Helper()
	tb.devtools("override the UV flag", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: auth, IsBadUV: &bad})
		return err
	})
}

// credentials counts the passkeys the authenticator holds.
func (tb *tab) credentials(id webauthn.AuthenticatorID) int {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	r, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		tb.fail("WebAuthn.getCredentials: %v", err)
	}
	return len(r.Credentials)
}

// lastAMR reads the amr claim of the access token in the last 200 or 201
// answer to POST on a path matching pattern (path.Match; the page keeps the token in memory only; the test reads
// the answer off the wire).
func (tb *tab) lastAMR(pattern string) []string {
	tb.t.Helper()
	var last *response
	tb.mu.Lock()
	for _, r := range tb.responses {
		u, err := url.Parse(r.URL)
		if err != nil || r.Method != "POST" || (r.Status != http.StatusOK && r.Status != http.StatusCreated) {
			continue
		}
		if ok, _ := path.Match(pattern, u.Path); ok {
			last = &r
		}
	}
	tb.mu.Unlock()
	if last == nil {
		tb.fail("no 200 or 201 answer to POST %s", pattern)
	}
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	body, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: last.ID})
	if err != nil {
		tb.fail("the body of POST %s: %v", pattern, err)
	}
	var g struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body.Body, &g); err != nil {
		tb.fail("POST %s: the answer (%d bytes) is not a token response: %v", pattern, len(body.Body), err)
	}
	parts := strings.Split(g.AccessToken, ".")
	if len(parts) != 3 {
		tb.fail("POST %s: the access token is not a JWT", pattern)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		AMR []string `json:"amr"`
	}
	if err == nil {
		err = json.Unmarshal(payload, &c)
	}
	if err != nil {
		tb.fail("POST %s: the access token's payload: %v", pattern, err)
	}
	return c.AMR
}

// wantAMR checks an amr claim as a set (its order means nothing).
func wantAMR(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: amr %q, want %q", what, got, want)
	}
}

// addPasskeyUI adds a passkey named name from the Account screen.
func addPasskeyUI(tb *tab, name, pw string) {
	tb.t.Helper()
	tb.find("link", "Account").click()
	accountLoaded(tb)
	tb.find("button", "Add a passkey").click()
	form := tb.find("form", "Add a passkey")
	form.find("textbox", "Passkey name").fill(name)
	form.find("textbox", "Current password").fill(pw)
	form.find("button", "Create passkey").click()
}

// Add a passkey, sign out, sign in with it: the token says hwk, user and
// mfa. Rename it; remove it (the password asked first), after which it
// signs nobody in.
func TestBrowserPasskeySignIn(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	_, base := serveLocalhost(t)
	tb := b.newTab("passkey", false)
	tb.open(base + "/")
	auth := tb.authenticator(true)
	signUpUI(tb, "Pia", "pia@example.com", browserPW)
	// The claim is read right: a password alone is pwd, nothing more.
	wantAMR(t, "a sign-up", tb.lastAMR("/api/auth/signup"), "pwd")

	// A wrong password: told at the field, and no ceremony runs.
	addPasskeyUI(tb, "Laptop", "not the password")
	tb.waitJS("the wrong password's error", `[...document.querySelectorAll('.field-error')].some((e) => e.textContent.startsWith('Current password'))`)
	if n := tb.credentials(auth); n != 0 {
		t.Errorf("the authenticator holds %d credentials after a wrong password", n)
	}
	tb.find("form", "Add a passkey").find("textbox", "Current password").fill(browserPW)
	tb.find("form", "Add a passkey").find("button", "Create passkey").click()
	tb.waitText("Passkey added: Laptop.")
	tb.waitJS("the passkey listed", `[...document.querySelectorAll('.passkey-name')].map((e) => e.textContent).join() === 'Laptop'`)
	if n := tb.credentials(auth); n != 1 {
		t.Errorf("the authenticator holds %d credentials, want 1", n)
	}
	wantAnswers(tb, "POST", "/api/auth/passkeys/register", http.StatusCreated)
	noErrorShown(tb, "after adding a passkey")

	// Sign out, then in with the passkey alone.
	tb.find("button", "Sign out").click()
	tb.find("heading", "Sign in").wait()
	tb.find("button", "Sign in with a passkey").click()
	tb.find("heading", "Tasks").wait()
	wantAMR(t, "a passkey sign-in", tb.lastAMR("/api/auth/passkeys/signin"), "hwk", "user", "mfa")
	noErrorShown(tb, "signed in with a passkey")

	// Rename it.
	tb.find("link", "Account").click()
	accountLoaded(tb)
	// Escape leaves the rename form, back on its button.
	tb.find("button", "Rename").click()
	tb.find("form", "Rename Laptop").find("textbox", "New name").wait()
	tb.press(kb.Escape)
	tb.find("form", "Rename Laptop").waitGone()
	if got := eval[string](tb, `document.activeElement.textContent`); got != "Rename" {
		t.Errorf("after Escape the focus is on %q, want Rename", got)
	}
	tb.find("button", "Rename").click()
	rename := tb.find("form", "Rename Laptop")
	rename.find("textbox", "New name").fill("Work laptop")
	rename.find("button", "Save name").click()
	tb.waitJS("the new name listed", `[...document.querySelectorAll('.passkey-name')].map((e) => e.textContent).join() === 'Work laptop'`)
	tb.screenshotOf("passkeys-heading", "passkeys-desktop")
	tb.mu.Lock()
	for _, r := range tb.responses {
		if r.Method == "PATCH" && (r.Status != http.StatusOK || !strings.Contains(r.URL, "/api/auth/passkeys/")) {
			t.Errorf("rename: %s %s answered %d", r.Method, r.URL, r.Status)
		}
	}
	tb.mu.Unlock()

	// Remove it: the password first, a wrong one told at its field.
	tb.find("button", "Remove").click()
	remove := tb.find("form", "Remove Work laptop")
	remove.find("textbox", "Current password").fill("not the password")
	remove.find("button", "Remove passkey").click()
	tb.waitJS("the wrong password's error", `[...document.querySelectorAll('.field-error')].some((e) => e.textContent.startsWith('Current password'))`)
	remove.find("textbox", "Current password").fill(browserPW)
	remove.find("button", "Remove passkey").click()
	tb.waitText("You have no passkeys yet.")

	// The device still holds it, but it signs nobody in now.
	tb.find("button", "Sign out").click()
	tb.find("button", "Sign in with a passkey").click()
	tb.waitText("Latchkey did not accept this passkey.")
	if h := tb.hash(); h != "#/signin" {
		t.Errorf("after a refused passkey the app is at %q", h)
	}
	if r := tb.responsesTo("POST", "/api/auth/passkeys/signin"); len(r) != 2 || r[1].Status < 400 {
		t.Errorf("passkey sign-in answers %+v, want a 200 then a refusal", r)
	}
	tb.checkClean(base)
}

// A device that does not verify the user (no fingerprint, no PIN) makes
// no passkey, and a passkey whose assertion lacks the user-verified flag
// signs nobody in: the page says so each time.
func TestBrowserPasskeyUserVerificationRequired(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	_, base := serveLocalhost(t)
	tb := b.newTab("no uv", false)
	tb.open(base + "/")
	auth := tb.authenticator(false)
	signUpUI(tb, "Uma", "uma@example.com", browserPW)
	addPasskeyUI(tb, "Unverified", browserPW)
	tb.waitText("No passkey was made")
	tb.waitText("You have no passkeys yet.")
	if r := tb.responsesTo("POST", "/api/auth/passkeys/register"); len(r) != 0 {
		t.Errorf("a registration was sent: %+v", r)
	}

	// The same device, now verifying: the passkey is made. Then its
	// answers lose the UV flag: the server refuses the sign-in.
	tb.devtools("verify the user", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: auth, IsUserVerified: true})
		return err
	})
	// Its answer without the UV flag: the server refuses the passkey.
	overrideUV(tb, auth, true)
	tb.find("form", "Add a passkey").find("button", "Create passkey").click()
	tb.waitText("Latchkey did not accept this passkey: your device must verify you")
	wantAnswers(tb, "POST", "/api/auth/passkeys/register", http.StatusBadRequest)
	overrideUV(tb, auth, false)
	tb.find("form", "Add a passkey").find("button", "Create passkey").click()
	tb.waitText("Passkey added: Unverified.")
	tb.waitJS("one passkey listed", `document.querySelectorAll('.passkey').length === 1`)
	tb.find("button", "Sign out").click()
	overrideUV(tb, auth, true)
	tb.find("button", "Sign in with a passkey").click()
	tb.waitJS("an error shown", `!!document.querySelector('.form-error')?.textContent`)
	if r := tb.responsesTo("POST", "/api/auth/passkeys/signin"); len(r) != 1 || r[0].Status < 400 {
		t.Errorf("passkey sign-in answers %+v, want one refusal", r)
	}
	if h := tb.hash(); h != "#/signin" {
		t.Errorf("after a refused passkey the app is at %q", h)
	}
	tb.checkClean(base)
}

// With two-factor sign-in on, a passkey is offered as the second step
// after the password, and the token says so: pwd, hwk, user, mfa.
func TestBrowserPasskeyAsSecondStep(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	_, base := serveLocalhost(t)
	tb := b.newTab("passkey step", false)
	tb.open(base + "/")
	tb.authenticator(true)
	signUpUI(tb, "Stef", "stef@example.com", browserPW)
	enrolTOTPUI(tb, browserPW, nil)
	wantAMR(t, "the session made by turning TOTP on", tb.lastAMR("/api/auth/mfa/totp/*/confirm"), "pwd", "otp", "mfa")
	tb.find("button", "I have saved my codes").click()
	addPasskeyUI(tb, "Phone", browserPW)
	tb.waitText("Passkey added: Phone.")
	tb.find("button", "Sign out").click()
	tb.find("textbox", "Email").fill("stef@example.com")
	tb.find("textbox", "Password").fill(browserPW)
	tb.find("button", "Sign in").click()
	tb.find("heading", "Two-factor sign-in").wait()
	tb.find("button", "Use a passkey").click()
	tb.find("heading", "Tasks").wait()
	wantAMR(t, "a password and a passkey", tb.lastAMR("/api/auth/signin/mfa"), "pwd", "hwk", "user", "mfa")
	noErrorShown(tb, "signed in with a password and a passkey")
	tb.checkClean(base)
}
