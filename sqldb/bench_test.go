package sqldb_test

import (
	"encoding/binary"
	"fmt"
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

// growthSizes are the table sizes of the growth benchmarks.
var growthSizes = []int{10, 1000, 100000}

// bulkInsert runs insert for i in [0, n) in transactions of 10,000 rows on
// the writer pool: raw SQL, far faster than one store call per row.
func bulkInsert(b *testing.B, db *sqldb.DB, n int, query string, args func(i int) []any) {
	b.Helper()
	for start := 0; start < n; start += 10000 {
		tx, err := db.Writer().BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, query)
		if err != nil {
			b.Fatal(err)
		}
		for i := start; i < min(n, start+10000); i++ {
			if _, err := stmt.ExecContext(ctx, args(i)...); err != nil {
				b.Fatal(err)
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListTasksGrowth lists the newest page of one user with 10,
// 1,000 and 100,000 tasks, in pages of 10 (full at every size, so only the
// table grows) and of 50 (the default): the keyset index keeps it flat.
func BenchmarkListTasksGrowth(b *testing.B) {
	for _, n := range growthSizes {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			forEachEngineB(b, func(b *testing.B, db *sqldb.DB) {
				u := newUser(b, db)
				base := t0.UnixNano()
				bulkInsert(b, db, n,
					`INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at)
					 VALUES ($1, $2, $3, '', $4, $5, $5)`,
					func(i int) []any {
						at := base + int64(i)*int64(time.Millisecond)
						return []any{fmt.Sprintf("t%08d", i), u.ID, fmt.Sprintf("task %d", i), i%3 == 0, at}
					})
				for _, limit := range []int{10, 50} {
					b.Run(fmt.Sprintf("page=%d", limit), func(b *testing.B) {
						b.ReportAllocs()
						want := min(n, limit)
						f := latchkey.TaskFilter{UserID: u.ID, Status: latchkey.TaskStatusAll, Limit: limit}
						for b.Loop() {
							tasks, _, err := db.ListTasks(ctx, f)
							if err != nil || len(tasks) != want {
								b.Fatal(len(tasks), err)
							}
						}
					})
				}
			})
		})
	}
}

// BenchmarkFindUserByEmailGrowth looks up one user by email among 10,
// 1,000 and 100,000 users (the sign-in lookup, without the hash).
func BenchmarkFindUserByEmailGrowth(b *testing.B) {
	for _, n := range growthSizes {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			forEachEngineB(b, func(b *testing.B, db *sqldb.DB) {
				base := t0.UnixNano()
				bulkInsert(b, db, n,
					`INSERT INTO users (id, email, email_key, name, role, password_hash, disabled, created_at)
					 VALUES ($1, $2, $2, '', 'user', 'x', FALSE, $3)`,
					func(i int) []any {
						return []any{fmt.Sprintf("u%08d", i), fmt.Sprintf("growth%d@example.com", i), base + int64(i)}
					})
				email := fmt.Sprintf("Growth%d@example.com", n/2)
				for b.Loop() {
					if _, err := db.FindUserByEmail(ctx, email); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
