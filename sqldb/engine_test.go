package sqldb_test

// The store's contract tests run against every engine below. They live in
// the external test package so that they can import the packages that open
// each engine (which import sqldb) without an import cycle.

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/sqldb"
	"github.com/latchkey/latchkey/sqlite"
)

// engine is one database the store runs on.
type engine struct {
	name string
	// fresh creates a new, empty database and returns where it is.
	fresh func(tb testing.TB) string
	// open opens the database at loc, unmigrated; it is closed when the
	// test ends.
	open func(tb testing.TB, loc string) *sqldb.DB
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// engines lists the databases to test. PostgreSQL runs in a throwaway
// cluster (internal/pgtest), each store in a schema of its own; its tests
// skip when PostgreSQL is not installed, and fail then under CI=true.
var engines = []engine{
	{
		name:  "sqlite",
		fresh: func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "latchkey.db") },
		open: func(tb testing.TB, loc string) *sqldb.DB {
			tb.Helper()
			db, err := sqlite.Open(context.Background(), loc)
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { db.Close() })
			return db
		},
	},
	{
		name:  "postgres",
		fresh: func(tb testing.TB) string { return pgtest.Shared(tb).URL(tb) },
		open: func(tb testing.TB, loc string) *sqldb.DB {
			tb.Helper()
			db, err := postgres.Open(context.Background(), loc, postgres.Options{})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { db.Close() })
			return db.DB
		},
	},
}

// forEachEngine runs fn once per engine with a fresh, migrated store whose
// clock is a fixed testClock (see clockOf).
func forEachEngine(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			fn(t, openFresh(t, e))
		})
	}
}

// forEachEngineLoc is forEachEngine for tests that open the same database
// more than once: fn gets the engine and a fresh, unopened location.
func forEachEngineLoc(t *testing.T, fn func(t *testing.T, e engine, loc string)) {
	t.Helper()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			fn(t, e, e.fresh(t))
		})
	}
}

func openFresh(tb testing.TB, e engine) *sqldb.DB {
	tb.Helper()
	return openMigrated(tb, e, e.fresh(tb))
}

func openMigrated(tb testing.TB, e engine, loc string) *sqldb.DB {
	tb.Helper()
	db := e.open(tb, loc)
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	c := &testClock{t: t0}
	db.Now = c.Now
	clocks.Store(db, c)
	return db
}

// t0 is the fixed start of every store's clock. Its nanoseconds check that
// times round-trip at full precision.
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

// testClock is a settable clock for DB.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

var clocks sync.Map // *sqldb.DB -> *testClock

// clockOf returns the clock of a store made by openMigrated.
func clockOf(db *sqldb.DB) *testClock {
	c, _ := clocks.Load(db)
	return c.(*testClock)
}

var ctx = context.Background()

// wantCode fails the test unless err is a *latchkey.Error with code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	var e *latchkey.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func randBytes(tb testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

var userSeq struct {
	sync.Mutex
	n int
}

// newUser creates a user with a unique email.
func newUser(tb testing.TB, db *sqldb.DB) *latchkey.User {
	tb.Helper()
	userSeq.Lock()
	userSeq.n++
	n := userSeq.n
	userSeq.Unlock()
	u := &latchkey.User{
		Email:        "user" + strconv.Itoa(n) + "@example.com",
		Name:         "User " + strconv.Itoa(n),
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
	}
	must(tb, db.CreateUser(ctx, u))
	return u
}

// newSession creates a live session of userID, created at created and
// expiring a day later.
func newSession(tb testing.TB, db *sqldb.DB, userID string, created time.Time) *latchkey.Session {
	tb.Helper()
	s := &latchkey.Session{
		UserID:      userID,
		CreatedAt:   created,
		LastUsedAt:  created,
		ExpiresAt:   created.Add(24 * time.Hour),
		UserAgent:   "test-agent/1.0",
		IP:          "192.0.2.1",
		RefreshKey:  randBytes(tb, 32),
		RefreshHash: randBytes(tb, 32),
		RotatedAt:   created,
	}
	must(tb, insertSession(ctx, db, s))
	return s
}

// liveSessions lists up to a full page of the user's live sessions at now.
func liveSessions(db *sqldb.DB, userID string, now time.Time) ([]*latchkey.Session, error) {
	ss, _, err := db.ListSessions(ctx, latchkey.SessionFilter{UserID: userID, Now: now, Limit: latchkey.MaxPageSize})
	return ss, err
}

// insertSession is CreateSession with no cap, for the tests that only
// need a session stored.
func insertSession(ctx context.Context, db *sqldb.DB, s *latchkey.Session) error {
	_, err := db.CreateSession(ctx, s, 0)
	return err
}
