package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/smtptest"
	"github.com/latchkey/latchkey/internal/testkit"
)

// TestOutboxSendsOverSMTP: with LATCHKEY_SMTP_URL set, a mail written to
// the outbox reaches a real SMTP server over TCP, from the configured
// sender, through the transport the setting names.
func TestOutboxSendsOverSMTP(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	cfg := testkit.Config(t)
	loaded, err := app.Load("serve", func(k string) (string, bool) {
		switch k {
		case "LATCHKEY_SMTP_URL":
			return srv.URL(), true
		case "LATCHKEY_MAIL_FROM":
			return "Latchkey Test <auth@example.com>", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.SMTP, cfg.MailFrom = loaded.SMTP, loaded.MailFrom
	a, _ := startApp(t, cfg)
	m := &latchkey.Mail{To: "ada@example.com", Subject: "Hello", Text: "plain part", HTML: "<p>html part</p>"}
	if err := a.Store.EnqueueMail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	a.Sender.Wake()
	got := srv.Next(t, 10*time.Second)
	if got.Subject != "Hello" || len(got.EnvelopeTo) != 1 || got.EnvelopeTo[0] != "ada@example.com" ||
		got.EnvelopeFrom != "auth@example.com" || got.Text == "" || got.HTML == "" {
		t.Fatalf("received %+v", got)
	}
}
