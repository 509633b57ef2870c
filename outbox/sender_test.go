package outbox_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testkit"
	"github.com/latchkey/latchkey/outbox"
	"github.com/latchkey/latchkey/sqldb"
)

// mailerFunc is a Mailer made of a function.
type mailerFunc func(ctx context.Context, m *latchkey.Mail) error

func (f mailerFunc) Send(ctx context.Context, m *latchkey.Mail) error { return f(ctx, m) }

func run(t *testing.T, s *outbox.Sender) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func outboxLen(t *testing.T, db *sqldb.DB) int {
	ms, err := db.ListMail(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

// TestWake: with an hour between polls, a mail is still sent at once
// because the store wakes the sender; without the wake it is not.
func TestWake(t *testing.T) {
	for _, wake := range []bool{true, false} {
		db := testkit.OpenSQLite(t, "")
		var sent atomic.Int32
		s := outbox.New(db, mailerFunc(func(context.Context, *latchkey.Mail) error { sent.Add(1); return nil }), nil)
		s.Interval = time.Hour
		if wake {
			db.MailQueued = s.Wake
		}
		run(t, s)
		time.Sleep(50 * time.Millisecond) // past the first round
		if err := db.EnqueueMail(context.Background(), &latchkey.Mail{To: "a@example.com", Text: "x"}); err != nil {
			t.Fatal(err)
		}
		_, ok := testkit.Poll(time.Second, 10*time.Millisecond, func() bool { return sent.Load() == 1 })
		if ok != wake {
			t.Fatalf("wake %v: sent within 1 s: %v", wake, ok)
		}
	}
}

// TestNoMailerExpires: with no Mailer nothing is sent, and mail a day old
// is given up, audited, its body deleted.
func TestNoMailerExpires(t *testing.T) {
	db := testkit.OpenSQLite(t, "")
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	db.Now = func() time.Time { return time.Unix(0, now.Load()) }
	ctx := context.Background()
	for _, to := range []string{"old@example.com", "young@example.com"} {
		if err := db.EnqueueMail(ctx, &latchkey.Mail{To: to, Text: "link"}); err != nil {
			t.Fatal(err)
		}
		now.Add(int64(time.Hour))
	}
	now.Add(int64(latchkey.OutboxGiveUp - 2*time.Hour))
	stop := run(t, outbox.New(db, nil, nil))
	if _, ok := testkit.Poll(2*time.Second, 10*time.Millisecond, func() bool { return outboxLen(t, db) == 1 }); !ok {
		t.Fatal("the day-old mail was not given up")
	}
	stop()
	ms, _ := db.ListMail(ctx)
	if ms[0].To != "young@example.com" || ms[0].Attempts != 0 {
		t.Fatalf("left %+v", ms[0])
	}
	evs, _, err := db.ListAudit(ctx, latchkey.AuditFilter{Type: latchkey.AuditMailFailed})
	if err != nil || len(evs) != 1 {
		t.Fatalf("mail_failed events: %d, %v", len(evs), err)
	}
}

// TestStopFinishesSend: a send under way when the sender is stopped is
// finished and recorded: no mail is left claimed.
func TestStopFinishesSend(t *testing.T) {
	db := testkit.OpenSQLite(t, "")
	started, release := make(chan struct{}), make(chan struct{})
	s := outbox.New(db, mailerFunc(func(ctx context.Context, _ *latchkey.Mail) error {
		close(started)
		<-release
		return ctx.Err()
	}), nil)
	if err := db.EnqueueMail(context.Background(), &latchkey.Mail{To: "a@example.com", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	stop := run(t, s)
	<-started
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Run returned in the middle of a send")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	<-stopped
	if n := outboxLen(t, db); n != 0 {
		t.Fatalf("%d mails left after a finished send", n)
	}
}
