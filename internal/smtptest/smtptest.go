// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp)
// on 127.0.0.1:0 for tests: plain, STARTTLS or implicit TLS with a test
// certificate, optionally requiring AUTH PLAIN. It keeps every message
// it receives, parsed (To, Subject, the text and HTML parts), and lets a
// test wait for the next one. Nothing it receives is logged.
package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/latchkey/latchkey/internal/testkit"
)

// Options shape a Server. The zero value is plain SMTP, no AUTH.
type Options struct {
	// STARTTLS offers STARTTLS with the test certificate.
	STARTTLS bool
	// ImplicitTLS speaks TLS from the first byte (as smtps:// expects).
	ImplicitTLS bool
	// Username and Password, when set, make AUTH PLAIN required: a mail
	// from a client that did not authenticate is refused.
	Username, Password string
	// InsecureAuth advertises and accepts AUTH on a plain connection too,
	// so a test can check that a client never sends credentials there
	// (see Auths).
	InsecureAuth bool
	// Refuse answers every RCPT TO with 550: the server refuses the mail.
	Refuse bool
}

// Auth is one AUTH exchange the server saw.
type Auth struct {
	Username string
	TLS      bool // whether the connection was encrypted when it came
	OK       bool
}

// Server is a running test SMTP server, closed when the test ends.
type Server struct {
	Addr string // 127.0.0.1:PORT
	Host string // 127.0.0.1
	Port int
	// RootCAs trusts the server's certificate (valid for 127.0.0.1 and
	// localhost); nil for a plain server.
	RootCAs *x509.CertPool

	opts     Options
	messages chan *Message

	mu    sync.Mutex
	all   []*Message
	auths []Auth
}

// Start starts a server with opts on 127.0.0.1:0; t.Cleanup closes it.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, messages: make(chan *Message, 100)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.AllowInsecureAuth = opts.InsecureAuth
	srv.ErrorLog = discardLogger{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.STARTTLS || opts.ImplicitTLS {
		cert, pool := testkit.SelfSignedCert(t)
		s.RootCAs = pool
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if opts.ImplicitTLS {
			l = tls.NewListener(l, srv.TLSConfig)
		}
	}
	s.Addr = l.Addr().String()
	s.Host = "127.0.0.1"
	s.Port = l.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Close misses a listener that Serve has not registered yet.
		_ = l.Close()
		<-done
	})
	return s
}

// URL is a LATCHKEY_SMTP_URL for this server: smtp://...?tls=none for a
// plain one, smtp:// (STARTTLS) or smtps:// for the others, with the
// credentials when it has them.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	switch {
	case s.opts.ImplicitTLS:
		u.Scheme = "smtps"
	case !s.opts.STARTTLS:
		u.RawQuery = "tls=none"
	}
	if s.opts.Username != "" {
		u.User = url.UserPassword(s.opts.Username, s.opts.Password)
	}
	return u.String()
}

// Next waits up to timeout for the next message not yet taken by Next,
// and fails the test when none comes.
func (s *Server) Next(t testing.TB, timeout time.Duration) *Message {
	t.Helper()
	select {
	case m := <-s.messages:
		return m
	case <-time.After(timeout):
		t.Fatalf("smtptest: no mail within %v", timeout)
		return nil
	}
}

// Messages are all the messages received so far, in order.
func (s *Server) Messages() []*Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Message(nil), s.all...)
}

// Auths are all the AUTH exchanges received so far.
func (s *Server) Auths() []Auth {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Auth(nil), s.auths...)
}

func (s *Server) receive(m *Message) {
	s.mu.Lock()
	s.all = append(s.all, m)
	s.mu.Unlock()
	select {
	case s.messages <- m:
	default: // a test that never calls Next still sees it in Messages
	}
}

// session is one SMTP connection's state.
type session struct {
	s      *Server
	c      *smtp.Conn
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" && !ss.s.opts.InsecureAuth {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		_, isTLS := ss.c.TLSConnectionState()
		ok := username == ss.s.opts.Username && password == ss.s.opts.Password && ss.s.opts.Username != ""
		ss.s.mu.Lock()
		ss.s.auths = append(ss.s.auths, Auth{Username: username, TLS: isTLS, OK: ok})
		ss.s.mu.Unlock()
		if !ok {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.opts.Refuse {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable (smtptest Refuse)"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.c.TLSConnectionState()
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "smtptest cannot parse the message: " + err.Error()}
	}
	m.EnvelopeFrom, m.EnvelopeTo, m.TLS = ss.from, append([]string(nil), ss.to...), isTLS
	ss.s.receive(m)
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}
