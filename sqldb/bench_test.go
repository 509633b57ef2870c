package sqldb_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

func forEachEngineB(b *testing.B, fn func(b *testing.B, db *sqldb.DB)) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			db := openFresh(b, e)
			b.ReportAllocs()
			fn(b, db)
		})
	}
}

func BenchmarkListTasks(b *testing.B) {
	forEachEngineB(b, func(b *testing.B, db *sqldb.DB) {
		u := newUser(b, db)
		seedTasks(b, db, u.ID, 20)
		f := latchkey.TaskFilter{UserID: u.ID, Status: latchkey.TaskStatusAll, Limit: 50}
		for b.Loop() {
			tasks, _, err := db.ListTasks(ctx, f)
			if err != nil || len(tasks) != 20 {
				b.Fatal(len(tasks), err)
			}
		}
	})
}

func BenchmarkFindSessionByRefreshHash(b *testing.B) {
	forEachEngineB(b, func(b *testing.B, db *sqldb.DB) {
		u := newUser(b, db)
		var s *latchkey.Session
		for range 100 {
			s = newSession(b, db, u.ID, t0)
		}
		for b.Loop() {
			if _, err := db.FindSessionByRefreshHash(ctx, s.RefreshHash); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRotateSession(b *testing.B) {
	forEachEngineB(b, func(b *testing.B, db *sqldb.DB) {
		u := newUser(b, db)
		s := newSession(b, db, u.ID, t0)
		// Each iteration rotates one generation on. Token hashes are a
		// random prefix and the generation, in two reused buffers.
		old, next := append([]byte(nil), s.RefreshHash...), randBytes(b, 32)
		gen := int64(0)
		for b.Loop() {
			binary.BigEndian.PutUint64(next[24:], uint64(gen+1))
			now := t0.Add(time.Duration(gen) * time.Second)
			ok, err := db.RotateSession(ctx, latchkey.Rotation{SessionID: s.ID, FromGeneration: gen,
				OldHash: old, NewHash: next, Now: now, ExpiresAt: now.Add(720 * time.Hour)})
			if err != nil || !ok {
				b.Fatal(ok, err)
			}
			gen++
			copy(old, next)
		}
	})
}

func BenchmarkCreateTask(b *testing.B) {
	forEachEngineB(b, func(b *testing.B, db *sqldb.DB) {
		u := newUser(b, db)
		for b.Loop() {
			if err := db.CreateTask(ctx, &latchkey.Task{UserID: u.ID, Title: "benchmark", Description: "a task"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
