package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/latchkey/latchkey"
)

// DefaultTimeout bounds connecting and each exchange with the server, and
// a Send whose context has no deadline.
const DefaultTimeout = 30 * time.Second

// Mailer sends mail over one Transport. It implements latchkey.Mailer and
// is safe for concurrent use: each Send dials its own connection.
type Mailer struct {
	t       Transport
	from    *mail.Address
	tls     *tls.Config
	timeout time.Duration
}

var _ latchkey.Mailer = (*Mailer)(nil)

// Option changes a Mailer made by New.
type Option func(*Mailer)

// WithTLSConfig sets the TLS configuration for STARTTLS and implicit TLS,
// so tests can trust their own CA; by default the system roots verify the
// server, under the Transport's host name. The configuration is cloned;
// its ServerName is set to the host when empty.
func WithTLSConfig(c *tls.Config) Option { return func(m *Mailer) { m.tls = c.Clone() } }

// WithTimeout sets the connection and exchange timeout (DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(m *Mailer) { m.timeout = d } }

// New returns a Mailer that sends over t from the address from (such as
// "Latchkey <no-reply@auth.example.com>").
func New(t *Transport, from string, opts ...Option) (*Mailer, error) {
	a, err := ParseFrom(from)
	if err != nil {
		return nil, err
	}
	m := &Mailer{t: *t, from: a, timeout: DefaultTimeout}
	for _, o := range opts {
		o(m)
	}
	if m.tls == nil {
		m.tls = &tls.Config{}
	}
	if m.tls.ServerName == "" {
		m.tls.ServerName = t.Host
	}
	if m.tls.MinVersion < tls.VersionTLS12 {
		m.tls.MinVersion = tls.VersionTLS12
	}
	return m, nil
}

// ParseFrom checks a sender such as "Latchkey <no-reply@example.com>".
func ParseFrom(from string) (*mail.Address, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("%q is not a mail address (Name <user@host> or user@host)", from)
	}
	return a, nil
}

// DefaultFrom is the sender when LATCHKEY_MAIL_FROM is unset:
// Latchkey <no-reply@ISSUER_HOST>, the issuer's host without its port.
func DefaultFrom(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("issuer %q has no host", issuer)
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 domain literal
	}
	from := "Latchkey <no-reply@" + host + ">"
	if _, err := ParseFrom(from); err != nil {
		return "", fmt.Errorf("issuer host %q makes no mail address; set LATCHKEY_MAIL_FROM", u.Hostname())
	}
	return from, nil
}

// Send delivers m: it returns nil once the server has accepted it, and an
// error when the server refused it or could not be reached, by ctx's
// deadline and within the Mailer's timeout. The error never holds the body or the password.
func (s *Mailer) Send(ctx context.Context, m *latchkey.Mail) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	// go-mail heeds the context while dialing only; each exchange after
	// that is bounded by its timeout, so the timeout is cut to the
	// context's deadline. A cancellation without a deadline ends the send
	// within the Mailer's timeout.
	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	c, err := gomail.NewClient(s.t.Host, s.clientOptions(timeout)...)
	if err != nil {
		return fmt.Errorf("mail: smtp client for %s: %w", s.t.Addr(), err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: sending through %s: %w", s.t.String(), err)
	}
	return nil
}

func (s *Mailer) clientOptions(timeout time.Duration) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.t.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(s.tls),
	}
	switch s.t.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.t.Security != NoTLS && (s.t.Username != "" || s.t.Password != "") {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.t.Username),
			gomail.WithPassword(s.t.Password))
	}
	return opts
}

// message is m as a MIME multipart/alternative message.
func (s *Mailer) message(m *latchkey.Mail) (*gomail.Msg, error) {
	if m.Text == "" || m.HTML == "" {
		return nil, errors.New("mail: a mail needs a text and an HTML part")
	}
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg, nil
}
