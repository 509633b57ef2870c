package sqldb_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

func TestSigningKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		keys, err := db.ListSigningKeys(ctx)
		must(t, err)
		if len(keys) != 0 {
			t.Fatalf("fresh store has %d keys", len(keys))
		}
		older := &latchkey.SigningKey{ID: "kid-1", Algorithm: "EdDSA", PublicKey: randBytes(t, 32),
			PrivateKey: randBytes(t, 64), CreatedAt: t0.Add(-time.Hour)}
		newer := &latchkey.SigningKey{Algorithm: "EdDSA", PublicKey: randBytes(t, 32), PrivateKey: randBytes(t, 64)}
		must(t, db.CreateSigningKey(ctx, older))
		must(t, db.CreateSigningKey(ctx, newer))
		if newer.ID == "" || !newer.CreatedAt.Equal(t0) {
			t.Fatalf("CreateSigningKey filled in %+v", newer)
		}
		keys, err = db.ListSigningKeys(ctx)
		must(t, err)
		want := []*latchkey.SigningKey{newer, older}
		if !reflect.DeepEqual(keys, want) {
			t.Fatalf("ListSigningKeys =\n%+v\nwant\n%+v", keys, want)
		}

		dup := *older
		if err := db.CreateSigningKey(ctx, &dup); err == nil {
			t.Fatal("duplicate kid accepted")
		}
	})
}

func TestMigrateTwice(t *testing.T) {
	forEachEngineLoc(t, func(t *testing.T, e engine, loc string) {
		db := openMigrated(t, e, loc)
		u := newUser(t, db)
		var before int
		must(t, db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&before))
		if before == 0 {
			t.Fatal("no migration recorded")
		}
		must(t, db.Migrate(ctx))
		// And from a new handle, as a restarted process would.
		again := openMigrated(t, e, loc)
		var after int
		must(t, again.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&after))
		if after != before {
			t.Fatalf("schema_migrations went from %d to %d rows", before, after)
		}
		if _, err := again.FindUserByID(ctx, u.ID); err != nil {
			t.Fatalf("data lost across migrations: %v", err)
		}
	})
}

// Two processes starting at once both migrate the same fresh database.
func TestMigrateConcurrent(t *testing.T) {
	forEachEngineLoc(t, func(t *testing.T, e engine, loc string) {
		const n = 4
		dbs := make([]*sqldb.DB, n)
		for i := range dbs {
			dbs[i] = e.open(t, loc)
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, db := range dbs {
			wg.Go(func() { errs[i] = db.Migrate(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		var rows, versions int
		must(t, dbs[0].Reader().QueryRowContext(ctx,
			`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions))
		if rows != versions {
			t.Fatalf("schema_migrations has %d rows for %d versions: a migration ran twice", rows, versions)
		}
		newUser(t, dbs[0])
	})
}

// Two handles on one database see each other's writes at once, as two
// processes sharing a SQLite file must.
func TestTwoHandles(t *testing.T) {
	forEachEngineLoc(t, func(t *testing.T, e engine, loc string) {
		a := openMigrated(t, e, loc)
		b := openMigrated(t, e, loc)

		u := newUser(t, a)
		got, err := b.FindUserByEmail(ctx, u.Email)
		must(t, err)
		if got.ID != u.ID {
			t.Fatalf("b found %+v", got)
		}

		task := &latchkey.Task{UserID: u.ID, Title: "from b"}
		must(t, b.CreateTask(ctx, task))
		list, _, err := a.ListTasks(ctx, latchkey.TaskFilter{UserID: u.ID, Limit: 10})
		must(t, err)
		if len(list) != 1 || list[0].ID != task.ID {
			t.Fatalf("a lists %+v", list)
		}

		s := newSession(t, a, u.ID, t0)
		must(t, b.RevokeSessionByID(ctx, s.ID, latchkey.ReasonSignout, t0.Add(time.Second)))
		revoked, err := a.RevokedSince(ctx, t0)
		must(t, err)
		if len(revoked) != 1 || revoked[0].ID != s.ID {
			t.Fatalf("a's revocation feed: %+v", revoked)
		}
	})
}

func TestPingClose(t *testing.T) {
	forEachEngineLoc(t, func(t *testing.T, e engine, loc string) {
		db := e.open(t, loc)
		must(t, db.Ping(ctx))
		must(t, db.Close())
		if err := db.Ping(ctx); err == nil {
			t.Fatal("Ping after Close succeeded")
		}
	})
}

// A store keeps working when its clock is left nil.
func TestNilClock(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		db.Now = nil
		before := time.Now()
		u := newUser(t, db)
		if u.CreatedAt.Before(before.Add(-time.Second)) || u.CreatedAt.Location() != time.UTC {
			t.Fatalf("CreatedAt = %v", u.CreatedAt)
		}
	})
}

func TestDeleteSigningKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		a := &latchkey.SigningKey{ID: "a", Algorithm: "EdDSA", PublicKey: []byte("pub-a"), PrivateKey: []byte("private-a"), CreatedAt: t0}
		b := &latchkey.SigningKey{ID: "b", Algorithm: "EdDSA", PublicKey: []byte("pub-b"), PrivateKey: []byte("private-b"), CreatedAt: t0.Add(time.Hour)}
		must(t, db.CreateSigningKey(ctx, a))
		must(t, db.CreateSigningKey(ctx, b))
		must(t, db.DeleteSigningKeys(ctx, []string{"a", "nope"}))
		keys, err := db.ListSigningKeys(ctx)
		must(t, err)
		if len(keys) != 1 || keys[0].ID != "b" {
			t.Fatalf("keys left: %d", len(keys))
		}
	})
}

// TestUnavailableWhenOutOfTime: a store call whose context ran out while
// waiting for the database reports EUNAVAILABLE (a 503 for clients), not
// an internal error.
func TestUnavailableWhenOutOfTime(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		_, err := db.FindUserByID(expired, u.ID)
		wantCode(t, err, latchkey.EUNAVAILABLE)
		_, err = db.RevokeUserSessions(expired, u.ID, "", latchkey.ReasonSignout, t0)
		wantCode(t, err, latchkey.EUNAVAILABLE)
	})
}
