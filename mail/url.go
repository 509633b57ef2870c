// Package mail delivers Latchkey's mail over SMTP and composes it from
// templates embedded in the binary. ParseURL reads LATCHKEY_SMTP_URL into
// a Transport, New makes a Mailer (a latchkey.Mailer) of it, and one
// function per kind of mail (Verify, Reset, ...) builds a *latchkey.Mail.
// SMTP and MIME are github.com/wneessen/go-mail's; nothing here writes
// either by hand.
package mail

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Security is how a Transport protects the connection.
type Security int

const (
	// StartTLS connects in plain text and upgrades with STARTTLS before
	// anything else: a server that does not offer it is refused.
	StartTLS Security = iota
	// ImplicitTLS speaks TLS from the first byte (smtps://, port 465).
	ImplicitTLS
	// NoTLS is plain SMTP, allowed only to a loopback host and never
	// with credentials.
	NoTLS
)

func (s Security) String() string {
	switch s {
	case StartTLS:
		return "starttls"
	case ImplicitTLS:
		return "tls"
	case NoTLS:
		return "none"
	}
	return "Security(" + strconv.Itoa(int(s)) + ")"
}

// Transport is a parsed LATCHKEY_SMTP_URL. Its String never shows the
// password.
type Transport struct {
	Host     string // a name or an IP address, IPv6 without brackets
	Port     int
	Security Security
	Username string
	Password string
}

// Default ports when the URL names none.
const (
	portSMTPS      = 465
	portSubmission = 587
)

// ParseURL reads an SMTP URL:
//
//	smtps://USER:PASS@HOST:465       implicit TLS
//	smtp://USER:PASS@HOST:587        STARTTLS, required (credentials optional)
//	smtp://HOST:PORT?tls=none        plain SMTP, to a loopback host only, no credentials
//
// Anything else is an error. No error quotes the URL: a password with an
// unescaped '/' or '@' would land where Redacted does not look.
func ParseURL(raw string) (*Transport, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included.
		return nil, errors.New("not a URL (smtps://USER:PASS@HOST:465, smtp://USER:PASS@HOST:587 or smtp://localhost:PORT?tls=none)")
	}
	if u.Opaque != "" || u.Host == "" {
		// Without a host, the credentials may sit in Opaque or Path,
		// where Redacted does not find them: quote nothing.
		return nil, errors.New("the URL has no host (smtp://HOST:PORT)")
	}
	if u.Path != "" && u.Path != "/" || u.Fragment != "" {
		return nil, errors.New("an SMTP URL has no path or fragment")
	}
	t := &Transport{Host: u.Hostname()}
	if u.User != nil {
		t.Username = u.User.Username()
		t.Password, _ = u.User.Password()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("bad query")
	}
	tlsMode := q.Get("tls")
	for k := range q {
		if k != "tls" {
			return nil, errors.New("unknown parameter (the only one is tls=none)")
		}
	}
	switch {
	case u.Scheme == "smtps" && tlsMode == "":
		t.Security, t.Port = ImplicitTLS, portSMTPS
	case u.Scheme == "smtp" && tlsMode == "":
		t.Security, t.Port = StartTLS, portSubmission
	case u.Scheme == "smtp" && tlsMode == "none":
		t.Security = NoTLS
	case u.Scheme == "smtp" || u.Scheme == "smtps":
		return nil, errors.New("tls=none is the only value of tls, and only with smtp://")
	default:
		return nil, fmt.Errorf("scheme %q is not smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New("bad port")
		}
		t.Port = n
	}
	if t.Security == NoTLS {
		if t.Port == 0 {
			return nil, errors.New("tls=none needs a port")
		}
		if !IsLoopback(t.Host) {
			return nil, errors.New("tls=none is allowed only to a loopback host (localhost, 127.0.0.0/8, [::1]): mail and credentials would cross the network in clear")
		}
		if u.User != nil {
			return nil, errors.New("tls=none takes no credentials: they are never sent without TLS")
		}
	}
	return t, nil
}

// IsLoopback reports whether host is localhost, in 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}

// Addr is host:port.
func (t *Transport) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// String is the URL with the password redacted.
func (t Transport) String() string {
	u := url.URL{Scheme: "smtp", Host: t.Addr()}
	switch t.Security {
	case ImplicitTLS:
		u.Scheme = "smtps"
	case NoTLS:
		u.RawQuery = "tls=none"
	}
	if t.Username != "" || t.Password != "" {
		u.User = url.UserPassword(t.Username, "xxxxx")
	}
	return u.String()
}

// GoString keeps the password out of %#v as well.
func (t Transport) GoString() string { return "mail.Transport(" + t.String() + ")" }
