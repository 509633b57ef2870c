package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/smtptest"
	"github.com/latchkey/latchkey/mail"
)

const wait = 10 * time.Second

// mailer makes a Mailer for srv's URL, trusting its certificate.
func mailer(t *testing.T, url string, srv *smtptest.Server, opts ...mail.Option) *mail.Mailer {
	t.Helper()
	tr, err := mail.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	if srv != nil && srv.RootCAs != nil {
		opts = append([]mail.Option{mail.WithTLSConfig(&tls.Config{RootCAs: srv.RootCAs})}, opts...)
	}
	m, err := mail.New(tr, "Latchkey <no-reply@auth.example.com>", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testMail(to string) *latchkey.Mail {
	return &latchkey.Mail{To: to, Subject: "Grüße, a test", Text: "Hello text\nline two, café", HTML: "<p>Hello <b>HTML</b>, café</p>"}
}

func checkReceived(t *testing.T, got *smtptest.Message, want *latchkey.Mail) {
	t.Helper()
	if got.To != want.To || got.Subject != want.Subject {
		t.Errorf("received To %q Subject %q, want %q %q", got.To, got.Subject, want.To, want.Subject)
	}
	if got.ContentType != "multipart/alternative" {
		t.Errorf("content type %q, want multipart/alternative", got.ContentType)
	}
	if strings.TrimSpace(got.Text) != want.Text || strings.TrimSpace(got.HTML) != want.HTML {
		t.Errorf("received text %q and HTML %q, want %q and %q", got.Text, got.HTML, want.Text, want.HTML)
	}
	if got.From != `"Latchkey" <no-reply@auth.example.com>` && got.From != "Latchkey <no-reply@auth.example.com>" {
		t.Errorf("From %q", got.From)
	}
	if got.Header.Get("Message-Id") == "" || got.Header.Get("Date") == "" {
		t.Errorf("no Message-ID or Date: %v", got.Header)
	}
}

func TestSendPlainToLoopback(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	m := mailer(t, srv.URL(), srv)
	want := testMail("ann@example.com")
	if err := m.Send(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	got := srv.Next(t, wait)
	checkReceived(t, got, want)
	if got.TLS {
		t.Error("TLS on a plain server?")
	}
	if len(got.EnvelopeTo) != 1 || got.EnvelopeTo[0] != "ann@example.com" || got.EnvelopeFrom != "no-reply@auth.example.com" {
		t.Errorf("envelope %q -> %q", got.EnvelopeFrom, got.EnvelopeTo)
	}
}

func TestSendSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{STARTTLS: true, Username: "lk", Password: "pw-over-tls"})
	if !strings.HasPrefix(srv.URL(), "smtp://lk:") || strings.Contains(srv.URL(), "tls=none") {
		t.Fatalf("URL %q", srv.URL())
	}
	m := mailer(t, srv.URL(), srv)
	want := testMail("bob@example.com")
	if err := m.Send(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	got := srv.Next(t, wait)
	checkReceived(t, got, want)
	if !got.TLS {
		t.Error("the mail came in clear")
	}
	auths := srv.Auths()
	if len(auths) != 1 || !auths[0].TLS || !auths[0].OK || auths[0].Username != "lk" {
		t.Errorf("auths %+v, want one, over TLS, accepted", auths)
	}
}

func TestSendSTARTTLSWithoutAuth(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{STARTTLS: true})
	m := mailer(t, srv.URL(), srv)
	if err := m.Send(context.Background(), testMail("c@example.com")); err != nil {
		t.Fatal(err)
	}
	if got := srv.Next(t, wait); !got.TLS {
		t.Error("the mail came in clear")
	}
}

func TestSendImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{ImplicitTLS: true, Username: "lk", Password: "pw"})
	if !strings.HasPrefix(srv.URL(), "smtps://") {
		t.Fatalf("URL %q", srv.URL())
	}
	m := mailer(t, srv.URL(), srv)
	want := testMail("dan@example.com")
	if err := m.Send(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	got := srv.Next(t, wait)
	checkReceived(t, got, want)
	if auths := srv.Auths(); !got.TLS || len(auths) != 1 || !auths[0].TLS {
		t.Errorf("TLS %v, auths %+v", got.TLS, auths)
	}
}

// smtp:// requires STARTTLS: a server that does not offer it gets no mail
// and no credentials, even one that would take AUTH in clear.
func TestSTARTTLSRequired(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{Username: "lk", Password: "never-in-clear", InsecureAuth: true})
	for _, url := range []string{
		"smtp://lk:never-in-clear@" + srv.Addr,
		"smtp://" + srv.Addr,
	} {
		m := mailer(t, url, srv)
		err := m.Send(context.Background(), testMail("e@example.com"))
		if err == nil {
			t.Fatalf("%s: sent without STARTTLS", url)
		}
		if strings.Contains(err.Error(), "never-in-clear") {
			t.Errorf("the error %q shows the password", err)
		}
	}
	if auths := srv.Auths(); len(auths) != 0 {
		t.Errorf("the server saw credentials in clear: %+v", auths)
	}
	if msgs := srv.Messages(); len(msgs) != 0 {
		t.Errorf("the server got %d mails in clear", len(msgs))
	}
}

// Production trusts the system roots only: the test certificate is refused.
func TestUntrustedCertificate(t *testing.T) {
	t.Parallel()
	for _, opts := range []smtptest.Options{{STARTTLS: true, Username: "lk", Password: "pw-untrusted"}, {ImplicitTLS: true, Username: "lk", Password: "pw-untrusted"}} {
		srv := smtptest.Start(t, opts)
		m := mailer(t, srv.URL(), nil)
		if err := m.Send(context.Background(), testMail("f@example.com")); err == nil {
			t.Errorf("%s: sent to an untrusted certificate", srv.URL())
		}
		if auths, msgs := srv.Auths(), srv.Messages(); len(auths)+len(msgs) != 0 {
			t.Errorf("%s: the server got %d auths and %d mails", srv.URL(), len(auths), len(msgs))
		}
	}
}

func TestSendRefused(t *testing.T) {
	t.Parallel()
	t.Run("recipient refused", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.Start(t, smtptest.Options{Refuse: true})
		err := mailer(t, srv.URL(), srv).Send(context.Background(), testMail("g@example.com"))
		if err == nil || !strings.Contains(err.Error(), "550") {
			t.Errorf("err = %v, want the server's 550", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.Start(t, smtptest.Options{STARTTLS: true, Username: "lk", Password: "right"})
		url := strings.Replace(srv.URL(), ":right@", ":wrong-pw-123@", 1)
		err := mailer(t, url, srv).Send(context.Background(), testMail("h@example.com"))
		if err == nil {
			t.Fatal("sent with a wrong password")
		}
		if strings.Contains(err.Error(), "wrong-pw-123") {
			t.Errorf("the error %q shows the password", err)
		}
		if len(srv.Messages()) != 0 {
			t.Error("the server kept a mail")
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if err := mailer(t, "smtp://"+addr+"?tls=none", nil).Send(context.Background(), testMail("i@example.com")); err == nil {
			t.Error("sent to a closed port")
		}
	})
	t.Run("bad recipient", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.Start(t, smtptest.Options{})
		if err := mailer(t, srv.URL(), srv).Send(context.Background(), testMail("not an address")); err == nil {
			t.Error("sent to no address")
		}
	})
}

// A server that accepts the connection and says nothing: the send's
// context ends it.
func TestSendContext(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	m := mailer(t, "smtp://"+l.Addr().String()+"?tls=none", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = m.Send(ctx, testMail("j@example.com"))
	if err == nil {
		t.Fatal("sent to a silent server")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the send took %v after its context ended", d)
	}
	// The Mailer's own timeout holds when the context has no deadline.
	m = mailer(t, "smtp://"+l.Addr().String()+"?tls=none", nil, mail.WithTimeout(300*time.Millisecond))
	start = time.Now()
	if err := m.Send(context.Background(), testMail("k@example.com")); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the send took %v with a 300ms timeout", d)
	}
}

func TestNewRefusesABadFrom(t *testing.T) {
	t.Parallel()
	tr, _ := mail.ParseURL("smtp://localhost:25?tls=none")
	if _, err := mail.New(tr, "not an address"); err == nil {
		t.Error("New took a bad From")
	}
}
