package main

// Helpers of the end-to-end tests of account recovery and email (issue
// 13): the built binary sending its mail to a real SMTP server over TCP
// (internal/smtptest), and the check that none of the secrets the mails
// carried, nor the passwords, reached the server's log.

import (
	"crypto/tls"
	"encoding/pem"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/smtptest"
	"github.com/latchkey/latchkey/internal/testkit"
)

// serveMail runs `latchkey serve` on 127.0.0.1:0 with the SQLite database
// at dbPath, the extra environment ("LATCHKEY_SMTP_URL=...") and flags,
// and waits until it is ready.
func serveMail(t *testing.T, dbPath string, env []string, args ...string) *proc {
	t.Helper()
	argv := append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:" + dbPath}, args...)
	return spawn(t, filepath.Dir(dbPath), childEnv(env...), argv...).waitReady(t)
}

// secrets collects what the server's logs must never show: passwords,
// link tokens, codes, access and refresh tokens. check runs at the end of
// the test over every log it was given.
type secrets struct {
	mu      sync.Mutex
	strings []string // long: passwords, tokens (testkit.AssertNoSecrets)
	codes   []string // 6 digits (testkit.AssertNoCodes)
}

func (s *secrets) add(v ...string) {
	s.mu.Lock()
	s.strings = append(s.strings, v...)
	s.mu.Unlock()
}

func (s *secrets) code(c string) {
	s.mu.Lock()
	s.codes = append(s.codes, c)
	s.mu.Unlock()
}

func (s *secrets) grant(g testkit.Grant) testkit.Grant {
	s.add(g.AccessToken, g.RefreshToken)
	return g
}

// watch checks, at the end of the test, that none of the secrets is in the
// logs (one per process the test ran).
func (s *secrets) watch(t *testing.T, logs ...*testkit.LogBuffer) {
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, l := range logs {
			testkit.AssertNoSecrets(t, l.String(), s.strings...)
			testkit.AssertNoCodes(t, l.String(), s.codes...)
		}
		if len(s.strings) == 0 {
			t.Error("the secrets check had nothing to look for")
		}
	})
}

// waitMsg waits up to timeout for the n-th (from 1) message to the address
// with this subject at srv, and returns it.
func waitMsg(t *testing.T, srv *smtptest.Server, to, subject string, n int, timeout time.Duration) *smtptest.Message {
	t.Helper()
	var got []*smtptest.Message
	if _, ok := testkit.Poll(timeout, 10*time.Millisecond, func() bool {
		got = msgs(srv, to, subject)
		return len(got) >= n
	}); !ok {
		t.Fatalf("mail %d %q to %s: %d received within %v; all received: %s", n, subject, to, len(got), timeout, describe(srv.Messages()))
	}
	return got[n-1]
}

// msgs are the messages srv received to the address with this subject.
func msgs(srv *smtptest.Server, to, subject string) []*smtptest.Message {
	var out []*smtptest.Message
	for _, m := range srv.Messages() {
		if m.To == to && m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

func describe(ms []*smtptest.Message) string {
	s := ""
	for _, m := range ms {
		s += "\n  " + m.To + ": " + m.Subject
	}
	if s == "" {
		return "none"
	}
	return s
}

// tokenMail checks that m carries exactly one one-time link and one code,
// records them as secrets, and returns them.
func (s *secrets) tokenMail(t *testing.T, m *smtptest.Message) (token, code string) {
	t.Helper()
	token, code = testkit.MailSecrets(t, m.Text)
	s.add(token)
	s.code(code)
	return token, code
}

// smtpCertFile connects to srv, upgrades with STARTTLS, and writes the
// certificate it presents to a PEM file: the SSL_CERT_FILE with which a
// child process trusts the test server (Go's crypto/x509 reads it on
// Linux), since the binary has no setting for its own roots.
func smtpCertFile(t *testing.T, srv *smtptest.Server) string {
	t.Helper()
	c, err := smtp.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{RootCAs: srv.RootCAs, ServerName: srv.Host}); err != nil {
		t.Fatalf("STARTTLS to the test server: %v", err)
	}
	state, ok := c.TLSConnectionState()
	if !ok || len(state.PeerCertificates) == 0 {
		t.Fatal("no certificate from the test SMTP server")
	}
	path := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: state.PeerCertificates[0].Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()
	return path
}

// deadSMTPURL is a plain-SMTP URL to a loopback port where nothing
// listens: every send is refused at once.
func deadSMTPURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return "smtp://127.0.0.1:" + strconv.Itoa(port) + "?tls=none"
}

// me is GET /api/auth/me's user, with email_verified.
type meUser struct {
	ID            string `json:"id"`
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
}

func getMe(t *testing.T, c *testkit.Client, access string) meUser {
	t.Helper()
	r := c.Call("GET", "/api/auth/me", access, nil)
	r.WantStatus(t, http.StatusOK)
	var body struct {
		User meUser `json:"user"`
	}
	r.Decode(t, &body)
	if body.User.EmailVerified == nil {
		t.Fatalf("GET /api/auth/me: no email_verified in %s", r.Body)
	}
	return body.User
}

// userOf decodes a {user} answer (verify, confirm).
func userOf(t *testing.T, r testkit.Response) meUser {
	t.Helper()
	r.WantStatus(t, http.StatusOK)
	var body struct {
		User meUser `json:"user"`
	}
	r.Decode(t, &body)
	if body.User.EmailVerified == nil {
		t.Fatalf("%s: no email_verified in %s", r.What, r.Body)
	}
	return body.User
}

// execLatchkey is a latchkey command of the built binary, in the
// directory of dbPath, with no LATCHKEY_ setting from the environment.
func execLatchkey(dbPath string, args ...string) *exec.Cmd {
	cmd := exec.Command(binPath, args...)
	cmd.Dir, cmd.Env = filepath.Dir(dbPath), childEnv()
	return cmd
}
