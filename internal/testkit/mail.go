package testkit

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/mail"
)

// linkToken finds a one-time link's token in a mail's text.
var linkToken = regexp.MustCompile(`/#/(?:reset|verify|email-change)\?token=([A-Za-z0-9_-]+)`)

// MailSecrets returns the token of the one-time link in a mail's text and
// its code, the text's only 6-digit number; it fails the test unless there
// is exactly one of each.
func MailSecrets(t testing.TB, text string) (token, code string) {
	t.Helper()
	links := linkToken.FindAllStringSubmatch(text, -1)
	codes := mail.FindCodes(text)
	if len(links) != 1 || len(codes) != 1 {
		t.Fatalf("mail text with %d links and %d codes, want one of each:\n%s", len(links), len(codes), text)
	}
	return links[0][1], codes[0]
}

// Mails returns the mails waiting in the server's outbox to the address
// to with this subject ("" for any), oldest first. With no SMTP configured
// (testkit.Config), every mail the server wrote waits there.
func (s *Server) Mails(t testing.TB, to, subject string) []*latchkey.PendingMail {
	t.Helper()
	all, err := s.App.Store.ListMail(context.Background())
	if err != nil {
		t.Fatalf("list the outbox: %v", err)
	}
	var out []*latchkey.PendingMail
	for _, m := range all {
		if m.To == to && (subject == "" || m.Subject == subject) {
			out = append(out, m)
		}
	}
	return out
}

// WaitMail waits up to 5 s for the n-th (from 1) mail to the address with
// this subject in the outbox, and returns it: some mail is written after
// the answer (a forgotten password's).
func (s *Server) WaitMail(t testing.TB, to, subject string, n int) *latchkey.PendingMail {
	t.Helper()
	var ms []*latchkey.PendingMail
	if _, ok := Poll(5*time.Second, 10*time.Millisecond, func() bool {
		ms = s.Mails(t, to, subject)
		return len(ms) >= n
	}); !ok {
		t.Fatalf("mail %d %q to %s: %d in the outbox after 5 s", n, subject, to, len(ms))
	}
	return ms[n-1]
}
