package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/smtptest"
	"github.com/latchkey/latchkey/mail"
)

// A token with digits in it, a 6-digit run included, bounded by base64url
// characters: none of them may read as a code.
const secret = "Ab3_123456-xY9zQ0_kLm4NpRsTuVwXyZ0123456789-_"

func TestTokenMails(t *testing.T) {
	t.Parallel()
	tok := mail.Token{Secret: secret, Code: "042917", TTL: 30 * time.Minute}
	for _, tc := range []struct {
		compose func(to, issuer string, t mail.Token) (*latchkey.Mail, error)
		subject string
		route   string
	}{
		{mail.Verify, "Verify your email address", "verify"},
		{mail.Reset, "Reset your password", "reset"},
		{mail.EmailChange, "Confirm your new email address", "email-change"},
	} {
		for issuer, base := range map[string]string{
			"https://auth.example.com":       "https://auth.example.com",
			"https://auth.example.com/":      "https://auth.example.com",
			"https://example.com/auth/":      "https://example.com/auth",
			"http://localhost:8080/latchkey": "http://localhost:8080/latchkey",
		} {
			m, err := tc.compose("ann@example.com", issuer, tok)
			if err != nil {
				t.Fatalf("%s, %s: %v", tc.subject, issuer, err)
			}
			if m.Subject != tc.subject || m.To != "ann@example.com" {
				t.Errorf("subject %q to %q", m.Subject, m.To)
			}
			link := base + "/#/" + tc.route + "?token=" + secret
			if !strings.Contains(m.Text, link+"\n") || !strings.Contains(m.HTML, `href="`+link+`"`) {
				t.Errorf("%s, issuer %s: no link %s in\n%s\n%s", tc.subject, issuer, link, m.Text, m.HTML)
			}
			if codes := mail.FindCodes(m.Text); len(codes) != 1 || codes[0] != "042917" {
				t.Errorf("%s: six-digit numbers %q in the text, want only the code", tc.subject, codes)
			}
			if !strings.Contains(m.HTML, "042917") || !strings.Contains(m.Text, "30 minutes") {
				t.Errorf("%s: the HTML has no code or the text no lifetime", tc.subject)
			}
		}
	}
	if m, _ := mail.Verify("a@example.com", "https://x.example", mail.Token{Secret: secret, Code: "000000", TTL: 24 * time.Hour}); !strings.Contains(m.Text, "24 hours") {
		t.Errorf("no 24 hours in %q", m.Text)
	}
}

func TestNotices(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		compose func(to, issuer string) (*latchkey.Mail, error)
		subject string
	}{
		{mail.EmailChanging, "Your email address is being changed"},
		{mail.PasswordChanged, "Your password was changed"},
		{mail.MFAEnabled, "Two-factor sign-in turned on"},
		{mail.MFADisabled, "Two-factor sign-in turned off"},
		{mail.RecoveryCodesRegenerated, "New recovery codes were made"},
		{mail.PasskeyAdded, "A passkey was added to your account"},
		{mail.PasskeyRemoved, "A passkey was removed from your account"},
		{mail.MFAReset, "Two-factor sign-in was reset by an administrator"},
	} {
		m, err := tc.compose("ann@example.com", "https://auth.example.com/base/")
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != tc.subject {
			t.Errorf("subject %q, want %q", m.Subject, tc.subject)
		}
		for _, part := range []string{m.Text, m.HTML} {
			if strings.Contains(part, "token") || strings.Contains(part, "/#/") || len(mail.FindCodes(part)) != 0 {
				t.Errorf("%s: a token, a link into the app or a code in %q", tc.subject, part)
			}
			if !strings.Contains(part, "wasn't you?") || !strings.Contains(part, "https://auth.example.com/base") {
				t.Errorf("%s: no \"this wasn't you\" hint with the issuer in %q", tc.subject, part)
			}
		}
	}
}

func TestComposeRefuses(t *testing.T) {
	t.Parallel()
	good := mail.Token{Secret: secret, Code: "123456", TTL: time.Hour}
	for name, tc := range map[string]struct {
		issuer string
		tok    mail.Token
	}{
		"secret with a quote":      {"https://a.example", mail.Token{Secret: `abc"><x`, Code: "123456"}},
		"secret with an ampersand": {"https://a.example", mail.Token{Secret: "abc&x=1", Code: "123456"}},
		"empty secret":             {"https://a.example", mail.Token{Code: "123456"}},
		"5-digit code":             {"https://a.example", mail.Token{Secret: secret, Code: "12345"}},
		"7-digit code":             {"https://a.example", mail.Token{Secret: secret, Code: "1234567"}},
		"code with a letter":       {"https://a.example", mail.Token{Secret: secret, Code: "12345a"}},
		"non-ASCII digits":         {"https://a.example", mail.Token{Secret: secret, Code: "١٢٣٤٥٦"}},
		"issuer not a URL":         {"auth.example.com", good},
		"issuer ftp":               {"ftp://a.example", good},
		// The code must stay the only six-digit number of the text.
		"issuer with six digits": {"https://a.example/123456", good},
	} {
		if m, err := mail.Reset("a@example.com", tc.issuer, tc.tok); err == nil {
			t.Errorf("%s: composed %q", name, m.Text)
		}
	}
	if _, err := mail.PasswordChanged("a@example.com", "https://a.example/654321"); err == nil {
		t.Error("a notice with a six-digit number composed")
	}
	// An address of six digits stays out of the text.
	m, err := mail.Reset("123456@example.com", "https://a.example", good)
	if err != nil || m.Text == "" || len(mail.FindCodes(m.Text)) != 1 {
		t.Errorf("an address with six digits: %v, codes %q", err, mail.FindCodes(m.Text))
	}
}

func TestHTMLEscapes(t *testing.T) {
	t.Parallel()
	to := `"<script>alert(1)</script>"@example.com`
	issuer := `https://evil.example/<img src=x onerror=alert(2)>"'&`
	m, err := mail.Verify(to, issuer, mail.Token{Secret: secret, Code: "123456", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	n, err := mail.EmailChanging(to, issuer)
	if err != nil {
		t.Fatal(err)
	}
	for _, html := range []string{m.HTML, n.HTML} {
		for _, bad := range []string{"<script", "<img", `"'&`, "onerror=alert(2)>"} {
			if strings.Contains(html, bad) {
				t.Errorf("the HTML holds %q unescaped:\n%s", bad, html)
			}
		}
		if !strings.Contains(html, "&lt;script&gt;") {
			t.Errorf("the address is not in the HTML, escaped:\n%s", html)
		}
	}
}

func TestFindCodes(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"code: 123456.":                  "123456",
		"123456":                         "123456",
		"a 123456 b 654321":              "123456,654321",
		"1234567 12345 token=ab123456cd": "",
		"x/#/reset?token=123456-abc":     "",
		"t=abc_123456 t=-123456":         "",
		"(123456)\n":                     "123456",
	} {
		if got := strings.Join(mail.FindCodes(text), ","); got != want {
			t.Errorf("FindCodes(%q) = %q, want %q", text, got, want)
		}
	}
}

// The whole path: compose, send over TCP, read the mail as a person would.
func TestResetMailEndToEnd(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{STARTTLS: true, Username: "lk", Password: "pw"})
	m, err := mail.Reset("ann@example.com", "https://auth.example.com/lk/", mail.Token{Secret: secret, Code: "090807", TTL: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := mailer(t, srv.URL(), srv).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Next(t, wait)
	if got.Subject != "Reset your password" || got.To != "ann@example.com" {
		t.Errorf("subject %q to %q", got.Subject, got.To)
	}
	if got.Code() != "090807" {
		t.Errorf("code %q in %q", got.Code(), got.Text)
	}
	if want := "https://auth.example.com/lk/#/reset?token=" + secret; got.Link() != want {
		t.Errorf("link %q, want %q", got.Link(), want)
	}
	if !strings.Contains(got.HTML, "090807") {
		t.Error("no code in the received HTML")
	}
}
