package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/latchkey/latchkey"
)

// The subjects, as the issue names them.
const (
	SubjectVerify         = "Verify your email address"
	SubjectReset          = "Reset your password"
	SubjectEmailChange    = "Confirm your new email address"
	SubjectEmailChanging  = "Your email address is being changed"
	SubjectPasswordChange = "Your password was changed"

	// The notices of issue 14's security changes.
	SubjectMFAEnabled     = "Two-factor sign-in turned on"
	SubjectMFADisabled    = "Two-factor sign-in turned off"
	SubjectRecoveryCodes  = "New recovery codes were made"
	SubjectPasskeyAdded   = "A passkey was added to your account"
	SubjectPasskeyRemoved = "A passkey was removed from your account"
	SubjectMFAReset       = "Two-factor sign-in was reset by an administrator"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// kind is one mail: its subject, its templates, and for the mails that
// carry a token, the web app route its link opens.
type kind struct {
	subject string
	route   string // "reset" for {issuer}/#/reset?token=...; empty: no token
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

func newKind(name, subject, route string) kind {
	return kind{
		subject: subject,
		route:   route,
		text:    texttemplate.Must(texttemplate.New(name+".txt.tmpl").Option("missingkey=error").ParseFS(templateFS, "templates/"+name+".txt.tmpl")),
		html:    htmltemplate.Must(htmltemplate.New("layout").Option("missingkey=error").ParseFS(templateFS, "templates/layout.html.tmpl", "templates/"+name+".html.tmpl")),
	}
}

var (
	kindVerify          = newKind("verify", SubjectVerify, "verify")
	kindReset           = newKind("reset", SubjectReset, "reset")
	kindEmailChange     = newKind("email-change", SubjectEmailChange, "email-change")
	kindEmailChanging   = newKind("email-changing", SubjectEmailChanging, "")
	kindPasswordChanged = newKind("password-changed", SubjectPasswordChange, "")
	kindMFAEnabled      = newKind("mfa-enabled", SubjectMFAEnabled, "")
	kindMFADisabled     = newKind("mfa-disabled", SubjectMFADisabled, "")
	kindRecoveryCodes   = newKind("recovery-codes", SubjectRecoveryCodes, "")
	kindPasskeyAdded    = newKind("passkey-added", SubjectPasskeyAdded, "")
	kindPasskeyRemoved  = newKind("passkey-removed", SubjectPasskeyRemoved, "")
	kindMFAReset        = newKind("mfa-reset", SubjectMFAReset, "")
)

// Token is what a mail with a one-time token carries: the link secret
// (base64url), the 6-digit code, and how long they live.
type Token struct {
	Secret string
	Code   string
	TTL    time.Duration
}

// Verify is "Verify your email address" to to, with a link to
// {issuer}/#/verify?token=... and the code.
func Verify(to, issuer string, t Token) (*latchkey.Mail, error) {
	return compose(kindVerify, to, issuer, &t)
}

// Reset is "Reset your password", with a link to
// {issuer}/#/reset?token=... and the code.
func Reset(to, issuer string, t Token) (*latchkey.Mail, error) {
	return compose(kindReset, to, issuer, &t)
}

// EmailChange is "Confirm your new email address", sent to the new
// address, with a link to {issuer}/#/email-change?token=... and the code.
func EmailChange(to, issuer string, t Token) (*latchkey.Mail, error) {
	return compose(kindEmailChange, to, issuer, &t)
}

// EmailChanging is "Your email address is being changed", the notice to
// the old address, with a "this wasn't me" hint and no token. It does not
// name the new address.
func EmailChanging(to, issuer string) (*latchkey.Mail, error) {
	return compose(kindEmailChanging, to, issuer, nil)
}

// PasswordChanged is "Your password was changed", a notice with no token.
func PasswordChanged(to, issuer string) (*latchkey.Mail, error) {
	return compose(kindPasswordChanged, to, issuer, nil)
}

// The notices of a change to the second factor or the passkeys (issue 14),
// each with no token and a "this wasn't you" hint.
func MFAEnabled(to, issuer string) (*latchkey.Mail, error) {
	return compose(kindMFAEnabled, to, issuer, nil)
}

func MFADisabled(to, issuer string) (*latchkey.Mail, error) {
	return compose(kindMFADisabled, to, issuer, nil)
}

func RecoveryCodesRegenerated(to, issuer string) (*latchkey.Mail, error) {
	return compose(kindRecoveryCodes, to, issuer, nil)
}

func PasskeyAdded(to, issuer string) (*latchkey.Mail, error) {
	return compose(kindPasskeyAdded, to, issuer, nil)
}

func PasskeyRemoved(to, issuer string) (*latchkey.Mail, error) {
	return compose(kindPasskeyRemoved, to, issuer, nil)
}

func MFAReset(to, issuer string) (*latchkey.Mail, error) {
	return compose(kindMFAReset, to, issuer, nil)
}

// fields are what the templates see.
type fields struct {
	Subject string
	To      string // in the HTML footer only: an address may hold six digits
	Issuer  string // as configured, without a trailing slash
	Site    string // the issuer's host[:port]
	Link    string
	Code    string
	TTL     string
}

func compose(k kind, to, issuer string, t *Token) (*latchkey.Mail, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("mail: the issuer is not an http(s) URL")
	}
	f := fields{Subject: k.subject, To: to, Issuer: strings.TrimRight(issuer, "/"), Site: u.Host}
	if t != nil {
		if !isBase64URL(t.Secret) {
			return nil, errors.New("mail: the token secret is not base64url")
		}
		if len(t.Code) != 6 || len(FindCodes(t.Code)) != 1 {
			return nil, errors.New("mail: the code is not six digits")
		}
		f.Link = f.Issuer + "/#/" + k.route + "?token=" + t.Secret
		f.Code = t.Code
		f.TTL = humanDuration(t.TTL)
	}
	var text, html bytes.Buffer
	if err := k.text.Execute(&text, f); err != nil {
		return nil, fmt.Errorf("mail: text of %q: %w", k.subject, err)
	}
	if err := k.html.Execute(&html, f); err != nil {
		return nil, fmt.Errorf("mail: HTML of %q: %w", k.subject, err)
	}
	// A person on another device types the code read from the text: it
	// must be the only six-digit number there (the issuer's host could
	// hold another).
	if codes := FindCodes(text.String()); t != nil && len(codes) != 1 || t == nil && len(codes) != 0 {
		return nil, errors.New("mail: the issuer puts a six-digit number in the text, beside the code")
	}
	return &latchkey.Mail{To: to, Subject: k.subject, Text: text.String(), HTML: html.String()}, nil
}

// FindCodes returns the six-digit numbers of text: each run of exactly six
// ASCII digits between characters that cannot be part of a base64url
// token (so the digits inside a link's token never count).
func FindCodes(text string) []string {
	var codes []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !isBase64URLRune(r) }) {
		if len(w) == 6 && strings.Trim(w, "0123456789") == "" {
			codes = append(codes, w)
		}
	}
	return codes
}

func isBase64URLRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

func isBase64URL(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isBase64URLRune(r) {
			return false
		}
	}
	return true
}

// humanDuration is d in words: "30 minutes", "24 hours", "1 hour".
func humanDuration(d time.Duration) string {
	unit, n := "minute", int64(d/time.Minute)
	if d >= time.Hour && d%time.Hour == 0 {
		unit, n = "hour", int64(d/time.Hour)
	}
	if n < 1 {
		n = 1
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}
