package main

// Browser tests of two-factor sign-in (issue 14): turning it on from the
// Account screen with codes made by pquerna/otp from the key the page
// shows, the recovery codes, and the second step of signing in.

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/testkit"
)

// totpAt is the code of secret (as the page shows it, spaces and all) for
// the time step around at.
func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), at)
	if err != nil {
		t.Fatalf("totp code: %v", err)
	}
	return code
}

// otherCode is a 6-digit code that is not code (each digit moved by one):
// wrong now, and almost surely in the neighbouring steps too.
func otherCode(code string) string {
	b := []byte(code)
	for i := range b {
		b[i] = '0' + (b[i]-'0'+1)%10
	}
	return string(b)
}

// accountLoaded waits until the Account screen's cards have loaded, so
// that no card grows under a click.
func accountLoaded(tb *tab) {
	tb.t.Helper()
	tb.find("heading", "Account").wait()
	tb.waitJS("the account's cards loaded", `!!document.getElementById('mfa-state') && !!document.querySelector('.session') && !document.querySelector('main .loading')`)
}

// enrolTOTPUI turns two-factor sign-in on from the Account screen and
// returns the key the page showed and the recovery codes, with the time
// of the code used (later codes must be of later steps). look, when not
// nil, looks at the screens on the way ("setup", "codes").
func enrolTOTPUI(tb *tab, pw string, look func(screen string)) (secret string, codes []string, used time.Time) {
	tb.t.Helper()
	tb.find("link", "Account").click()
	accountLoaded(tb)
	card := tb.find("region", "Two-factor sign-in")
	card.find("button", "Turn on two-factor sign-in").click()
	tb.find("form", "Turn on two-factor sign-in").find("textbox", "Current password").fill(pw)
	tb.find("button", "Continue").click()
	tb.find("image", "QR code for your authenticator app").wait()
	if src := eval[string](tb, `document.querySelector('.mfa-qr').getAttribute('src').slice(0, 22)`); src != "data:image/png;base64," {
		tb.fail("the QR code's src starts %q", src)
	}
	secret = eval[string](tb, `document.getElementById('mfa-secret').textContent`)
	if len(strings.ReplaceAll(secret, " ", "")) < 16 {
		tb.fail("the key shown is %q", secret)
	}
	if look != nil {
		look("setup")
	}
	field := tb.find("textbox", "Code from the app")
	if got := field.prop("inputMode") + field.prop("autocomplete"); got != `"numeric""one-time-code"` {
		tb.t.Errorf("the code field's inputmode and autocomplete are %s", got)
	}
	// A wrong code first: told at the field, and nothing is turned on.
	field.fill(otherCode(totpAt(tb.t, secret, time.Now())))
	tb.find("button", "Turn on").click()
	tb.waitJS("the wrong code's error", `[...document.querySelectorAll('.field-error')].some((e) => e.textContent.startsWith('Code'))`)
	used = time.Now()
	field.fill(totpAt(tb.t, secret, used))
	tb.find("button", "Turn on").click()
	tb.waitText("Save these recovery codes now.")
	codes = eval[[]string](tb, `[...document.querySelectorAll('#recovery-codes code')].map((e) => e.textContent)`)
	if look != nil {
		look("codes")
	}
	return secret, codes, used
}

// Turn two-factor sign-in on, then sign in with a code, a wrong code, a
// recovery code (once only), and run an mfa_token out of attempts; then
// make new recovery codes and turn it off, both with recovery codes.
func TestBrowserTwoFactorSignIn(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	tb := b.newTab("mfa", false)
	tb.open(p.base + "/")
	signUpUI(tb, "Otto", "otto@example.com", browserPW)
	tb.find("link", "Account").click()
	accountLoaded(tb)
	tb.waitText("A stolen password is enough to get into your account.")
	// A wrong password is told at its field.
	tb.find("region", "Two-factor sign-in").find("button", "Turn on two-factor sign-in").click()
	tb.find("form", "Turn on two-factor sign-in").find("textbox", "Current password").fill("not the password")
	tb.find("button", "Continue").click()
	tb.waitJS("the wrong password's error", `[...document.querySelectorAll('.field-error')].some((e) => e.textContent.startsWith('Current password'))`)
	tb.find("button", "Cancel").click()

	mark := tb.responseCount()
	secret, codes, used := enrolTOTPUI(tb, browserPW, func(screen string) { tb.screenshotOf("mfa-heading", "mfa-"+screen+"-desktop") })
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown: %q", len(codes), codes)
	}
	for _, c := range codes {
		if len(c) != 19 || strings.Count(c, "-") != 3 {
			t.Errorf("recovery code %q is not xxxx-xxxx-xxxx-xxxx", c)
		}
	}
	href := eval[string](tb, `decodeURIComponent([...document.querySelectorAll('a')].find((a) => a.textContent === 'Download codes').getAttribute('href'))`)
	if !strings.HasPrefix(href, "data:text/plain;charset=utf-8,") || !strings.Contains(href, strings.Join(codes, "\n")) {
		t.Errorf("the download link is %q", href)
	}
	if got := eval[string](tb, `[...document.querySelectorAll('a')].find((a) => a.textContent === 'Download codes').download`); got != "latchkey-recovery-codes.txt" {
		t.Errorf("the download's file name is %q", got)
	}
	// Copy codes puts the ten codes on the clipboard, one a line.
	tb.clipboardAllowed(p.base)
	tb.find("button", "Copy codes").click()
	tb.waitText("Recovery codes copied.")
	if got := tb.clipboard(); got != strings.Join(codes, "\n") {
		t.Errorf("the clipboard holds %q after Copy codes", got)
	}
	// Confirming ended every session and gave this device a new one: the
	// app uses it at once (no refused call, no refresh), and the list
	// shows it alone, as this device.
	tb.find("button", "I have saved my codes").click()
	tb.waitText("Recovery codes left: 10 of 10.")
	tb.waitJS("one session, this one", `document.querySelectorAll('.session').length === 1 && document.querySelectorAll('.session.current').length === 1`)
	for _, r := range tb.responsesSince(mark) {
		if r.Status == http.StatusUnauthorized || strings.HasSuffix(r.URL, "/api/auth/refresh") {
			t.Errorf("after confirming: %s %s answered %d", r.Method, r.URL, r.Status)
		}
	}
	noErrorShown(tb, "after turning two-factor sign-in on")

	// Sign in: the password, then the code; a wrong code is told first.
	tb.find("button", "Sign out").click()
	passwordThenStep(tb)
	tb.screenshot("signin-mfa-desktop")
	field := tb.find("textbox", "Authentication code")
	if got := field.prop("inputMode") + field.prop("autocomplete"); got != `"numeric""one-time-code"` {
		t.Errorf("the step's code field: inputmode and autocomplete %s", got)
	}
	if got := eval[bool](tb, `document.activeElement === document.querySelector('input[name=code]')`); !got {
		t.Error("the code field does not have focus on the second step")
	}
	// No passkey on this account: none offered.
	tb.find("button", "Use a passkey").waitGone()
	field.fill("12345")
	tb.find("button", "Verify").click()
	tb.waitText("The code is 6 digits.")
	next := used.Add(30 * time.Second)
	field.fill(otherCode(totpAt(t, secret, next)))
	tb.find("button", "Verify").click()
	tb.waitText("That code is not right.")
	wantAnswers(tb, "POST", "/api/auth/signin/mfa", http.StatusUnauthorized)
	field.fill(totpAt(t, secret, next))
	tb.find("button", "Verify").click()
	tb.find("heading", "Tasks").wait()
	noErrorShown(tb, "signed in with a code")

	// A recovery code works once.
	tb.find("button", "Sign out").click()
	passwordThenStep(tb)
	tb.find("button", "Use a recovery code").click()
	tb.find("textbox", "Recovery code").fill(strings.ToUpper(codes[0]))
	tb.find("button", "Verify").click()
	tb.find("heading", "Tasks").wait()
	tb.find("button", "Sign out").click()
	passwordThenStep(tb)
	tb.find("button", "Use a recovery code").click()
	tb.find("textbox", "Recovery code").fill(codes[0])
	tb.find("button", "Verify").click()
	tb.waitText("That recovery code is not right, or it was used already.")
	// The same mfa_token takes 5 codes in all: after 4 more wrong ones,
	// the step says to start again, and Start again goes back to the
	// password.
	tb.find("button", "Use a code from your app").click()
	for i := range 4 {
		tb.find("textbox", "Authentication code").fill(otherCode(totpAt(t, secret, next.Add(time.Duration(i)*time.Hour))))
		tb.find("button", "Verify").click()
		tb.waitJS("the answer to wrong code "+strconv.Itoa(i+2), `document.querySelector('.field-error')?.textContent !== '' || !!document.querySelector('.notice-error')`)
	}
	tb.find("textbox", "Authentication code").fill(totpAt(t, secret, next))
	tb.find("button", "Verify").click()
	tb.waitText("This sign-in has expired or had too many attempts.")
	tb.find("button", "Start again").click()
	tb.find("heading", "Sign in").wait()

	// New recovery codes, then off, each with a recovery code.
	signInWithRecovery(tb, codes[1])
	tb.find("link", "Account").click()
	accountLoaded(tb)
	tb.waitText("Recovery codes left: 8 of 10.")
	tb.find("button", "New recovery codes").click()
	form := tb.find("form", "New recovery codes")
	form.find("textbox", "Current password").fill(browserPW)
	form.find("textbox", "Code").fill(codes[2])
	form.find("button", "Make new codes").click()
	tb.waitText("New recovery codes are ready.")
	fresh := eval[[]string](tb, `[...document.querySelectorAll('#recovery-codes code')].map((e) => e.textContent)`)
	if len(fresh) != 10 || fresh[0] == codes[0] {
		t.Errorf("new codes %q", fresh)
	}
	tb.find("button", "I have saved my codes").click()
	tb.waitText("Recovery codes left: 10 of 10.")
	tb.find("button", "Turn off").click()
	form = tb.find("form", "Turn off two-factor sign-in")
	form.find("textbox", "Current password").fill(browserPW)
	form.find("textbox", "Code").fill(codes[3]) // an old code: no longer good
	form.find("button", "Turn off two-factor sign-in").click()
	tb.waitJS("the old code refused", `[...document.querySelectorAll('.field-error')].some((e) => e.textContent.startsWith('Code'))`)
	form.find("textbox", "Code").fill(fresh[0])
	form.find("button", "Turn off two-factor sign-in").click()
	tb.waitText("Two-factor sign-in is off. Signing in needs only your password.")
	tb.find("button", "Sign out").click()
	signInUI(tb, "otto@example.com", browserPW) // no second step now
	tb.checkClean(p.base)
}

// clipboardAllowed lets pages of origin read and write the clipboard.
func (tb *tab) clipboardAllowed(origin string) {
	tb.t.Helper()
	tb.devtools("allow the clipboard", func(ctx context.Context) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.Call(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: name},
				Setting:    cdpbrowser.PermissionSettingGranted,
				Origin:     origin,
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// clipboard is the text on the clipboard.
func (tb *tab) clipboard() string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	b, err := tb.css("main").call(ctx, `function() { return navigator.clipboard.readText(); }`)
	var s string
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		tb.fail("read the clipboard: %v", err)
	}
	return s
}

// passwordThenStep signs in with Otto's password and waits for the second step.
func passwordThenStep(tb *tab) {
	tb.t.Helper()
	tb.find("heading", "Sign in").wait()
	tb.find("textbox", "Email").fill("otto@example.com")
	tb.find("textbox", "Password").fill(browserPW)
	tb.find("button", "Sign in").click()
	tb.find("heading", "Two-factor sign-in").wait()
	noErrorShown(tb, "the second step")
}

func signInWithRecovery(tb *tab, code string) {
	tb.t.Helper()
	passwordThenStep(tb)
	tb.find("button", "Use a recovery code").click()
	tb.find("textbox", "Recovery code").fill(code)
	tb.find("button", "Verify").click()
	tb.find("heading", "Tasks").wait()
}

// On a phone: the screens of two-factor sign-in fit the width, and the
// second step works from the keyboard alone (the code field has focus,
// Enter sends it).
func TestBrowserTwoFactorOnAPhone(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	tb := b.newTab("mfa phone", false)
	tb.viewport(375, 812, true)
	tb.open(p.base + "/")
	fits := func(screen string) {
		t.Helper()
		if w := eval[int](tb, `document.documentElement.scrollWidth`); w > 375 {
			t.Errorf("%s: page is %d px wide in a 375 px window", screen, w)
		}
	}
	signUpUI(tb, "Phoebe Marchetti-Oyelaran", "phoebe.marchetti-oyelaran@example.com", browserPW)
	tb.find("link", "Account").click()
	accountLoaded(tb)
	fits("account")
	secret, _, used := enrolTOTPUI(tb, browserPW, func(screen string) {
		fits(screen)
		tb.screenshotOf("mfa-heading", "mfa-"+screen+"-mobile")
	})
	if w := eval[int](tb, `document.querySelector('.mfa-qr')?.getBoundingClientRect().width || 0`); w != 0 {
		// The codes screen replaced the QR code.
		t.Errorf("the QR code is still shown (%d px)", w)
	}
	tb.find("button", "Sign out").click()

	tb.find("heading", "Sign in").wait()
	tb.find("textbox", "Email").fill("phoebe.marchetti-oyelaran@example.com")
	tb.find("textbox", "Password").fill(browserPW)
	tb.press(kb.Enter)
	tb.find("heading", "Two-factor sign-in").wait()
	fits("second step")
	tb.screenshot("signin-mfa-mobile")
	tb.waitJS("focus on the code field", `document.activeElement === document.querySelector('input[name=code]')`)
	tb.press(totpAt(t, secret, used.Add(30*time.Second)) + kb.Enter)
	tb.find("heading", "Tasks").wait()
	noErrorShown(tb, "signed in from the keyboard")
	tb.checkClean(p.base)
}

// Ten wrong codes in a row lock codes from the app for a while: the
// second step then says how long to wait and offers the recovery code,
// which still works.
func TestBrowserTwoFactorLocked(t *testing.T) {
	t.Parallel()
	b := startBrowser(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	tb := b.newTab("mfa lock", false)
	tb.open(p.base + "/")
	signUpUI(tb, "Otto", "otto@example.com", browserPW)
	secret, codes, used := enrolTOTPUI(tb, browserPW, nil)
	tb.find("button", "I have saved my codes").click()
	tb.find("button", "Sign out").click()
	// Ten wrong codes through the API, five to an mfa_token.
	c := testkit.NewClient(t, p.base, nil)
	wrong := otherCode(totpAt(t, secret, used.Add(30*time.Second)))
	for range 2 {
		mfa := c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "otto@example.com", "password": browserPW}).
			Problem(t, http.StatusUnauthorized, "mfa_required")
		for range 5 {
			// The code that locks may be answered 429 already.
			r := c.Call("POST", "/api/auth/signin/mfa", "", map[string]any{"mfa_token": mfa["mfa_token"], "code": wrong})
			if r.Status != http.StatusUnauthorized && r.Status != http.StatusTooManyRequests {
				t.Fatalf("a wrong code answered %d %s", r.Status, r.Body)
			}
		}
	}
	passwordThenStep(tb)
	tb.find("textbox", "Authentication code").fill(totpAt(t, secret, used.Add(30*time.Second)))
	tb.find("button", "Verify").click()
	tb.waitText("Too many attempts. Try again in 15 minutes")
	tb.waitText("You can use a recovery code meanwhile.")
	wantAnswers(tb, "POST", "/api/auth/signin/mfa", http.StatusTooManyRequests)
	tb.find("button", "Use a recovery code").click()
	tb.find("textbox", "Recovery code").fill(codes[0])
	tb.find("button", "Verify").click()
	tb.find("heading", "Tasks").wait()
	tb.checkClean(p.base)
}
