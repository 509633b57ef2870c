package smtptest_test

import (
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/smtptest"
)

// A message written by another client (net/smtp), base64 and an encoded
// subject: the parse does not depend on go-mail's choices.
func TestParse(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	if srv.URL() != "smtp://"+srv.Addr+"?tls=none" || srv.RootCAs != nil {
		t.Errorf("URL %q, RootCAs %v", srv.URL(), srv.RootCAs)
	}
	raw := strings.Join([]string{
		"From: Latchkey <no-reply@example.com>",
		"To: Ann <ann@example.com>",
		"Subject: =?UTF-8?q?Gr=C3=BC=C3=9Fe?=",
		"MIME-Version: 1.0",
		`Content-Type: multipart/alternative; boundary="b1"`,
		"",
		"--b1",
		"Content-Type: text/plain; charset=UTF-8",
		"Content-Transfer-Encoding: base64",
		"",
		"Y29kZTogMTIzNDU2Cg==",
		"--b1",
		"Content-Type: text/html; charset=UTF-8",
		"Content-Transfer-Encoding: quoted-printable",
		"",
		"<p>caf=C3=A9</p>",
		"--b1--",
		"",
	}, "\r\n")
	if err := smtp.SendMail(srv.Addr, nil, "no-reply@example.com", []string{"ann@example.com"}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	m := srv.Next(t, 10*time.Second)
	if m.To != "ann@example.com" || m.Subject != "Grüße" || m.Text != "code: 123456\n" || m.HTML != "<p>café</p>" || m.Code() != "123456" || m.Link() != "" {
		t.Errorf("parsed %+v", m)
	}
	if len(srv.Messages()) != 1 {
		t.Errorf("%d messages", len(srv.Messages()))
	}
}

// Without credentials a server that requires them refuses the mail; and
// the URL of a TLS server carries them.
func TestAuthRequired(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{STARTTLS: true, Username: "u", Password: "p"})
	if !strings.HasPrefix(srv.URL(), "smtp://u:p@127.0.0.1:") || srv.RootCAs == nil {
		t.Errorf("URL %q", srv.URL())
	}
	c, err := smtp.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@example.com"); err == nil {
		t.Error("MAIL FROM accepted without AUTH")
	}
	if len(srv.Messages()) != 0 || len(srv.Auths()) != 0 {
		t.Error("the server kept something")
	}
}
