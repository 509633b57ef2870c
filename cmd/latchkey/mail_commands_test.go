package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testkit"
)

// TestMailListAndRetry: `latchkey mail list` prints every waiting mail,
// failed ones included, with the whole text part and nothing a terminal
// would obey; `latchkey mail retry` makes them all due now.
func TestMailListAndRetry(t *testing.T) {
	t.Parallel()
	cfg := testkit.Config(t)
	env := map[string]string{"LATCHKEY_DATABASE_URL": cfg.DatabaseURL}

	// Before any store exists: bad configuration (2), nothing created.
	if code, _, stderr := runCLI(t, env, "", "mail", "list"); code != 2 {
		t.Fatalf("mail list with no store: exit %d, %q", code, stderr)
	}

	a := testkit.NewApp(t, cfg)
	ctx := context.Background()
	text := "Hello \x1b[31mEve\u202e,\n\nYour code is 123456.\nhttp://localhost:8080/#/reset?token=abc\n"
	m := &latchkey.Mail{To: "eve@example.com", Subject: "Reset your password", Text: text, HTML: "<p>html part</p>"}
	if err := a.Store.EnqueueMail(ctx, m); err != nil {
		t.Fatal(err)
	}
	failed := &latchkey.Mail{To: "bob@example.com", Subject: "Verify your email address", Text: "code 654321"}
	if err := a.Store.EnqueueMail(ctx, failed); err != nil {
		t.Fatal(err)
	}
	for _, c := range mustClaim(t, a.Store, 2) {
		if _, err := a.Store.MailFailed(ctx, c.ID, "451 greylisted"); err != nil {
			t.Fatal(err)
		}
	}

	code, out, stderr := runCLI(t, env, "", "mail", "list")
	if code != 0 {
		t.Fatalf("mail list: exit %d, %s", code, stderr)
	}
	for _, want := range []string{
		"To:      eve@example.com", "Subject: Reset your password", `Hello \x1b[31mEve\u202e,`,
		"Your code is 123456.", "http://localhost:8080/#/reset?token=abc",
		"To:      bob@example.com", "code 654321", "1 failed attempts", "451 greylisted", m.ID,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("mail list lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\u202e") || strings.Contains(out, "html part") {
		t.Errorf("mail list printed a control character or the HTML part:\n%q", out)
	}
	if strings.Index(out, "eve@") > strings.Index(out, "bob@") {
		t.Error("mail list is not oldest first")
	}

	// Both are backing off; retry makes them due at once.
	if got := mustClaim(t, a.Store, 0); len(got) != 0 {
		t.Fatal("due while backing off")
	}
	code, out, _ = runCLI(t, env, "", "mail", "retry")
	if code != 0 || !strings.HasPrefix(out, "2 mails due now") {
		t.Fatalf("mail retry: exit %d, %q", code, out)
	}
	mustClaim(t, a.Store, 2)

	if code, _, stderr := runCLI(t, env, "", "mail", "send"); code != 2 {
		t.Errorf("mail send: exit %d, want 2", code)
	} else {
		wantOneLineError(t, stderr)
	}
	if code, _, _ := runCLI(t, env, "", "mail", "list", "extra"); code != 2 {
		t.Errorf("mail list extra: exit %d, want 2", code)
	}
}

// TestMailListEmpty: an empty outbox says so.
func TestMailListEmpty(t *testing.T) {
	t.Parallel()
	cfg := testkit.Config(t)
	testkit.NewApp(t, cfg)
	code, out, _ := runCLI(t, map[string]string{"LATCHKEY_DATABASE_URL": cfg.DatabaseURL}, "", "mail", "list")
	if code != 0 || out != "no mail waiting in the outbox\n" {
		t.Fatalf("exit %d, %q", code, out)
	}
}

func mustClaim(t *testing.T, s latchkey.OutboxService, want int) []*latchkey.PendingMail {
	t.Helper()
	ms, err := s.ClaimMail(context.Background(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != want {
		t.Fatalf("claimed %d mails, want %d", len(ms), want)
	}
	return ms
}
