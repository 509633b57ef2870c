package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testkit"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// recorder is a fake Mailer that records what it is given; with fail set
// it refuses everything.
type recorder struct {
	delay time.Duration // how long a send takes

	mu   sync.Mutex
	sent map[string]int // mail ID -> sends
	fail bool
}

func newRecorder() *recorder { return &recorder{sent: map[string]int{}} }

func (r *recorder) Send(_ context.Context, m *latchkey.Mail) error {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("451 4.3.0 try again later")
	}
	r.sent[m.ID]++
	return nil
}

func (r *recorder) count() (mails, sends int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.sent {
		sends += n
	}
	return len(r.sent), sends
}

// startApp builds and starts cfg, with its log in the returned buffer; it
// is closed at the end of the test unless the test closes it first.
func startApp(t *testing.T, cfg app.Config) (*app.App, *testkit.LogBuffer) {
	t.Helper()
	logs := &testkit.LogBuffer{}
	a, err := app.New(context.Background(), cfg, slogTo(logs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a, logs
}

func mail(i int) *latchkey.Mail {
	return &latchkey.Mail{To: fmt.Sprintf("u%d@example.com", i), Subject: "Reset your password",
		Text: fmt.Sprintf("secret-link-%d code 123456", i), HTML: "<p>secret</p>"}
}

func waitEmpty(t *testing.T, a *app.App) {
	t.Helper()
	if _, ok := testkit.Poll(20*time.Second, 20*time.Millisecond, func() bool {
		ms, err := a.Store.ListMail(context.Background())
		return err == nil && len(ms) == 0
	}); !ok {
		t.Fatal("the outbox was not emptied within 20 s")
	}
}

// TestOutboxCrashLosesNoMail: mail written by a process that stops
// before sending it (no Mailer here) is sent by the next one.
func TestOutboxCrashLosesNoMail(t *testing.T) {
	cfg := testkit.Config(t)
	a, logs := startApp(t, cfg)
	m := mail(1)
	must(t, a.Store.EnqueueMail(context.Background(), m))
	must(t, a.Close())
	if n := strings.Count(logs.String(), "mail is not being sent"); n != 1 {
		t.Fatalf("the no-mail notice was logged %d times, want once:\n%s", n, logs)
	}
	testkit.AssertNoSecrets(t, logs.String(), m.Text, "secret", "123456")

	rec := newRecorder()
	cfg.Mailer = rec
	b, logs := startApp(t, cfg)
	waitEmpty(t, b)
	if rec.sent[m.ID] != 1 {
		t.Fatalf("sends of the mail after restart: %v", rec.sent)
	}
	if strings.Contains(logs.String(), "mail is not being sent") {
		t.Fatal("the no-mail notice was logged with a Mailer")
	}
}

// TestOutboxFailingMailer: refused mail stays in the outbox, retried with
// backoff, and the log names the failure but never the mail's content.
func TestOutboxFailingMailer(t *testing.T) {
	cfg := testkit.Config(t)
	rec := newRecorder()
	rec.fail = true
	cfg.Mailer = rec
	a, logs := startApp(t, cfg)
	m := mail(2)
	must(t, a.Store.EnqueueMail(context.Background(), m))
	if _, ok := testkit.Poll(10*time.Second, 20*time.Millisecond, func() bool {
		ms, err := a.Store.ListMail(context.Background())
		return err == nil && len(ms) == 1 && ms[0].Attempts == 1
	}); !ok {
		t.Fatal("no failed attempt recorded")
	}
	ms, _ := a.Store.ListMail(context.Background())
	if d := time.Until(ms[0].NextAt); d < 2*time.Second || d > latchkey.OutboxBackoffMin {
		t.Fatalf("next attempt in %v, want about %v", d, latchkey.OutboxBackoffMin)
	}
	if _, ok := testkit.Poll(5*time.Second, 10*time.Millisecond, func() bool {
		return strings.Contains(logs.String(), "send failed, will retry")
	}); !ok {
		t.Fatalf("failure not logged:\n%s", logs)
	}
	must(t, a.Close())
	testkit.AssertNoSecrets(t, logs.String(), m.Text, m.HTML, "secret", "123456", m.Subject)
}

// TestOutboxTwoInstances: two servers on one store, SQLite file or
// PostgreSQL, send each mail once between them, whichever wrote it.
func TestOutboxTwoInstances(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			cfg := testkit.Config(t)
			if engine == "postgres" {
				url := pgtest.Shared(t).URL(t)
				cfg.DatabaseURL, cfg.PostgresURL, cfg.SQLitePath = url, url, ""
				cfg.SecretKey = "a-secret-key-of-at-least-32-bytes-long"
			}
			rec := newRecorder()
			rec.delay = 5 * time.Millisecond // so that the senders overlap
			cfg.Mailer = rec
			a, _ := startApp(t, cfg)
			b, _ := startApp(t, cfg)
			const n = 60
			for i := range n {
				store := a.Store
				if i%2 == 1 {
					store = b.Store
				}
				must(t, store.EnqueueMail(context.Background(), mail(i)))
			}
			waitEmpty(t, a)
			must(t, a.Close())
			must(t, b.Close())
			if mails, sends := rec.count(); mails != n || sends != n {
				t.Fatalf("%d mails sent %d times, want %d once each", mails, sends, n)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func slogTo(w *testkit.LogBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
