package sqldb_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

func testMail(to string) *latchkey.Mail {
	return &latchkey.Mail{To: to, Subject: "Reset your password", Text: "code 123456", HTML: "<p>code 123456</p>"}
}

func listMail(t *testing.T, db *sqldb.DB) []*latchkey.PendingMail {
	t.Helper()
	ms, err := db.ListMail(ctx)
	must(t, err)
	return ms
}

// A mail attached to a change is written with it, and only if it commits.
func TestOutboxWithChange(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		m := testMail(u.Email)
		m.UserID = u.ID
		woken := 0
		db.MailQueued = func() { woken++ }
		// The change fails (the email is taken): no mail, m untouched.
		dup := &latchkey.User{Email: u.Email, Name: "x", PasswordHash: u.PasswordHash}
		if err := db.CreateUser(latchkey.WithMail(ctx, m), dup); err == nil {
			t.Fatal("duplicate user created")
		}
		if ms := listMail(t, db); len(ms) != 0 || m.ID != "" || woken != 0 {
			t.Fatalf("rolled-back change left mail %v (m.ID %q, %d wake-ups)", ms, m.ID, woken)
		}
		// The change commits: the mail is there, ID and time filled in.
		u2 := &latchkey.User{Email: "new@example.com", Name: "n", PasswordHash: u.PasswordHash}
		mctx := latchkey.WithMail(ctx, m, testMail("old@example.com"))
		must(t, db.CreateUser(mctx, u2))
		if m.ID == "" || !m.CreatedAt.Equal(t0) || woken != 1 {
			t.Fatalf("mail after commit: ID %q CreatedAt %v", m.ID, m.CreatedAt)
		}
		// A second change with the same context writes them no more.
		must(t, db.CreateTask(mctx, &latchkey.Task{UserID: u2.ID, Title: "t"}))
		ms := listMail(t, db)
		if len(ms) != 2 || ms[0].ID != m.ID && ms[1].ID != m.ID {
			t.Fatalf("outbox holds %d mails, want the 2 attached", len(ms))
		}
		for _, p := range ms {
			if p.ID == m.ID && (p.To != m.To || p.Text != m.Text || p.HTML != m.HTML || p.Subject != m.Subject || p.UserID != u.ID || !p.NextAt.Equal(t0)) {
				t.Fatalf("stored %+v, want %+v due now", p, m)
			}
		}
	})
}

// Two claimers at once get each mail once, and a claimed mail is not
// claimed again until its lease runs out.
func TestOutboxClaimOnce(t *testing.T) {
	forEachEngineLoc(t, func(t *testing.T, e engine, loc string) {
		db1 := openMigrated(t, e, loc)
		db2 := openMigrated(t, e, loc)
		const n = 40
		for range n {
			must(t, db1.EnqueueMail(ctx, testMail("a@example.com")))
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for _, db := range []*sqldb.DB{db1, db2, db1, db2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ms, err := db.ClaimMail(ctx, 3, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ms) == 0 {
						return
					}
					mu.Lock()
					total := 0
					for _, m := range ms {
						seen[m.ID]++
					}
					for _, c := range seen {
						total += c
					}
					mu.Unlock()
					if total > 2*n { // claims that hand mail out twice
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("claimed %d distinct mails, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("mail %s claimed %d times", id, c)
			}
		}
		// Leased: nothing due. After the lease: all due again.
		clockOf(db1).Advance(59 * time.Second)
		if ms, _ := db1.ClaimMail(ctx, 100, time.Minute); len(ms) != 0 {
			t.Fatalf("claimed %d mails under lease", len(ms))
		}
		clockOf(db1).Advance(time.Second)
		if ms, _ := db1.ClaimMail(ctx, 100, time.Minute); len(ms) != n {
			t.Fatalf("claimed %d mails after the lease, want %d", len(ms), n)
		}
	})
}

// Failures back off from 5 s, doubling up to 5 min; delivery deletes the
// mail.
func TestOutboxBackoffAndDelivered(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		clock := clockOf(db)
		m := testMail("b@example.com")
		must(t, db.EnqueueMail(ctx, m))
		want := []time.Duration{5, 10, 20, 40, 80, 160, 300, 300}
		for i, w := range want {
			ms, err := db.ClaimMail(ctx, 10, time.Minute)
			must(t, err)
			if len(ms) != 1 || ms[0].Attempts != i {
				t.Fatalf("attempt %d: claimed %v", i+1, ms)
			}
			gaveUp, err := db.MailFailed(ctx, m.ID, "421 try later")
			must(t, err)
			if gaveUp {
				t.Fatal("gave up early")
			}
			clock.Advance(w*time.Second - time.Millisecond)
			if ms, _ := db.ClaimMail(ctx, 10, time.Minute); len(ms) != 0 {
				t.Fatalf("attempt %d: due before its %v backoff", i+1, w*time.Second)
			}
			clock.Advance(time.Millisecond)
		}
		ms := listMail(t, db)
		if len(ms) != 1 || ms[0].Attempts != len(want) || ms[0].LastError != "421 try later" {
			t.Fatalf("listed %+v", ms)
		}
		ms, err := db.ClaimMail(ctx, 10, time.Minute)
		must(t, err)
		if len(ms) != 1 {
			t.Fatal("not due after its backoff")
		}
		must(t, db.MailDelivered(ctx, m.ID))
		if ms := listMail(t, db); len(ms) != 0 {
			t.Fatalf("delivered mail still stored: %+v", ms)
		}
		assertNoBody(t, db, m.Text)
	})
}

// assertNoBody checks that no row of the outbox holds text.
func assertNoBody(t *testing.T, db *sqldb.DB, text string) {
	t.Helper()
	var n int
	must(t, db.Reader().QueryRowContext(ctx,
		`SELECT COUNT(*) FROM outbox WHERE text_body LIKE $1 OR html_body LIKE $1`, "%"+text+"%").Scan(&n))
	if n != 0 {
		t.Fatalf("%d rows still hold the body", n)
	}
}

// After 24 h a failure gives the mail up: body gone, mail_failed audited
// about its user in the same transaction.
func TestOutboxGiveUp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		clock := clockOf(db)
		u := newUser(t, db)
		m := testMail(u.Email)
		m.UserID = u.ID
		must(t, db.EnqueueMail(ctx, m))
		clock.Advance(latchkey.OutboxGiveUp - time.Second)
		if gaveUp, err := db.MailFailed(ctx, m.ID, "550 no"); err != nil || gaveUp {
			t.Fatalf("before 24 h: gaveUp %v, %v", gaveUp, err)
		}
		if evs := auditRows(t, db); len(evs) != 0 {
			t.Fatalf("audited %s before giving up", fmtEvents(evs))
		}
		clock.Advance(time.Second)
		gaveUp, err := db.MailFailed(ctx, m.ID, "550 no")
		must(t, err)
		if !gaveUp {
			t.Fatal("not given up after 24 h")
		}
		if ms := listMail(t, db); len(ms) != 0 {
			t.Fatalf("given-up mail still listed: %+v", ms)
		}
		assertNoBody(t, db, m.Text)
		evs := auditRows(t, db)
		if len(evs) != 1 || evs[0].Type != latchkey.AuditMailFailed || evs[0].UserID != u.ID ||
			strings.Contains(evs[0].Reason, "123456") {
			t.Fatalf("audit %s, want one mail_failed about %s", fmtEvents(evs), u.ID)
		}
		// A failure recorded for a mail no longer there is no error.
		if gaveUp, err := db.MailFailed(ctx, m.ID, "x"); err != nil || gaveUp {
			t.Fatalf("unknown mail: %v, %v", gaveUp, err)
		}
	})
}

// ExpireMail gives up old mail no sender holds, as with no SMTP.
func TestOutboxExpire(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		clock := clockOf(db)
		old, held, young := testMail("o@example.com"), testMail("h@example.com"), testMail("y@example.com")
		must(t, db.EnqueueMail(ctx, old))
		must(t, db.EnqueueMail(ctx, held))
		clock.Advance(time.Hour)
		must(t, db.EnqueueMail(ctx, young))
		clock.Advance(latchkey.OutboxGiveUp - time.Hour)
		if n, err := db.ExpireMail(ctx); err != nil || n != 2 {
			t.Fatalf("ExpireMail = %d, %v; want 2", n, err)
		}
		_ = held
		ms := listMail(t, db)
		if len(ms) != 1 || ms[0].ID != young.ID {
			t.Fatalf("left %+v, want only the young mail", ms)
		}
		if evs := auditRows(t, db); len(evs) != 2 || evs[0].Type != latchkey.AuditMailFailed {
			t.Fatalf("audit %s, want two mail_failed", fmtEvents(evs))
		}
		// A mail a sender holds is not expired under it.
		clock.Advance(time.Hour)
		if c, _ := db.ClaimMail(ctx, 10, time.Minute); len(c) != 1 {
			t.Fatal("young mail not claimed")
		}
		if n, err := db.ExpireMail(ctx); err != nil || n != 0 {
			t.Fatalf("ExpireMail under lease = %d, %v; want 0", n, err)
		}
	})
}

// RetryMail makes every waiting mail due now; ListMail shows them all.
func TestOutboxListRetry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		a, b := testMail("a@example.com"), testMail("b@example.com")
		must(t, db.EnqueueMail(ctx, a))
		must(t, db.EnqueueMail(ctx, b))
		for range 4 {
			must(t, claimAndFail(t, db))
		}
		ms, err := db.ClaimMail(ctx, 10, time.Minute)
		must(t, err)
		for _, m := range ms {
			_, err := db.MailFailed(ctx, m.ID, "451")
			must(t, err)
		}
		if ms, _ := db.ClaimMail(ctx, 10, time.Minute); len(ms) != 0 {
			t.Fatal("due while backing off")
		}
		if ms := listMail(t, db); len(ms) != 2 || ms[0].ID != a.ID || ms[1].ID != b.ID || ms[0].Attempts != 5 {
			t.Fatalf("list %+v, want both, oldest first, 5 attempts", ms)
		}
		n, err := db.RetryMail(ctx)
		must(t, err)
		if n != 2 {
			t.Fatalf("RetryMail = %d, want 2", n)
		}
		if ms, _ := db.ClaimMail(ctx, 10, time.Minute); len(ms) != 2 {
			t.Fatalf("claimed %d after retry, want 2", len(ms))
		}
		// Claimed ones keep their lease through a retry.
		if _, err := db.RetryMail(ctx); err != nil {
			t.Fatal(err)
		}
		if ms, _ := db.ClaimMail(ctx, 10, time.Minute); len(ms) != 0 {
			t.Fatal("retry broke a lease")
		}
	})
}

// claimAndFail claims what is due, fails it, and moves the clock past the
// backoff.
func claimAndFail(t *testing.T, db *sqldb.DB) error {
	ms, err := db.ClaimMail(ctx, 10, time.Minute)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if _, err := db.MailFailed(ctx, m.ID, "451"); err != nil {
			return err
		}
	}
	clockOf(db).Advance(latchkey.OutboxBackoff(ms[0].Attempts + 1))
	return nil
}

func TestOutboxBackoffTable(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 5 * time.Second, 1: 5 * time.Second, 2: 10 * time.Second, 7: 5 * time.Minute, 100: 5 * time.Minute} {
		if got := latchkey.OutboxBackoff(n); got != want {
			t.Errorf("OutboxBackoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestOutboxNeedsAddress(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		wantCode(t, db.EnqueueMail(ctx, &latchkey.Mail{Subject: "x"}), latchkey.EINVALID)
	})
}
