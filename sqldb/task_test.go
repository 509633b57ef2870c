package sqldb_test

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

func TestCreateTask(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		in := &latchkey.Task{UserID: u.ID, Title: "Write tests", Description: "all of them", Completed: true}
		must(t, db.CreateTask(ctx, in))
		if in.ID == "" || !in.CreatedAt.Equal(t0) || !in.UpdatedAt.Equal(t0) {
			t.Fatalf("CreateTask filled in %+v", in)
		}
		got, err := db.FindTask(ctx, u.ID, in.ID)
		must(t, err)
		if *got != *in {
			t.Fatalf("FindTask = %+v, want %+v", got, in)
		}

		wantCode(t, db.CreateTask(ctx, &latchkey.Task{UserID: "no-such-user", Title: "x"}), latchkey.ENOTFOUND)
	})
}

func TestTaskOfAnotherUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		owner := newUser(t, db)
		other := newUser(t, db)
		task := &latchkey.Task{UserID: owner.ID, Title: "mine"}
		must(t, db.CreateTask(ctx, task))
		title := "stolen"

		for _, userID := range []string{other.ID, "no-such-user"} {
			_, err := db.FindTask(ctx, userID, task.ID)
			wantCode(t, err, latchkey.ENOTFOUND)
			_, err = db.UpdateTask(ctx, userID, task.ID, latchkey.TaskUpdate{Title: &title})
			wantCode(t, err, latchkey.ENOTFOUND)
			_, err = db.ToggleTask(ctx, userID, task.ID)
			wantCode(t, err, latchkey.ENOTFOUND)
			wantCode(t, db.DeleteTask(ctx, userID, task.ID), latchkey.ENOTFOUND)
			list, _, err := db.ListTasks(ctx, latchkey.TaskFilter{UserID: userID, Status: latchkey.TaskStatusAll, Limit: 10})
			must(t, err)
			if len(list) != 0 {
				t.Fatalf("%s lists %d tasks of another user", userID, len(list))
			}
		}
		got, err := db.FindTask(ctx, owner.ID, task.ID)
		must(t, err)
		if *got != *task {
			t.Fatalf("another user's calls changed the task: %+v", got)
		}
	})
}

func TestTaskNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		done := true
		_, err := db.FindTask(ctx, u.ID, "nope")
		wantCode(t, err, latchkey.ENOTFOUND)
		_, err = db.UpdateTask(ctx, u.ID, "nope", latchkey.TaskUpdate{Completed: &done})
		wantCode(t, err, latchkey.ENOTFOUND)
		_, err = db.ToggleTask(ctx, u.ID, "nope")
		wantCode(t, err, latchkey.ENOTFOUND)
		wantCode(t, db.DeleteTask(ctx, u.ID, "nope"), latchkey.ENOTFOUND)
	})
}

func TestUpdateTask(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		clock := clockOf(db)
		u := newUser(t, db)
		task := &latchkey.Task{UserID: u.ID, Title: "title", Description: "desc"}
		must(t, db.CreateTask(ctx, task))
		ptr := func(s string) *string { return &s }
		yes, no := true, false

		want := *task
		steps := []struct {
			name string
			upd  latchkey.TaskUpdate
			edit func(*latchkey.Task)
		}{
			{"title only", latchkey.TaskUpdate{Title: ptr("new title")}, func(t *latchkey.Task) { t.Title = "new title" }},
			{"completed only", latchkey.TaskUpdate{Completed: &yes}, func(t *latchkey.Task) { t.Completed = true }},
			{"description to empty", latchkey.TaskUpdate{Description: ptr("")}, func(t *latchkey.Task) { t.Description = "" }},
			{"nothing", latchkey.TaskUpdate{}, func(*latchkey.Task) {}},
			{"all", latchkey.TaskUpdate{Title: ptr("t"), Description: ptr("d"), Completed: &no}, func(t *latchkey.Task) {
				t.Title, t.Description, t.Completed = "t", "d", false
			}},
		}
		for _, step := range steps {
			now := clock.Advance(time.Minute)
			got, err := db.UpdateTask(ctx, u.ID, task.ID, step.upd)
			must(t, err)
			step.edit(&want)
			want.UpdatedAt = now
			if *got != want {
				t.Fatalf("%s: UpdateTask = %+v, want %+v", step.name, got, want)
			}
			stored, err := db.FindTask(ctx, u.ID, task.ID)
			must(t, err)
			if *stored != want {
				t.Fatalf("%s: stored %+v, want %+v", step.name, stored, want)
			}
		}
	})
}

func TestToggleTask(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		clock := clockOf(db)
		u := newUser(t, db)
		task := &latchkey.Task{UserID: u.ID, Title: "toggle me"}
		must(t, db.CreateTask(ctx, task))
		for i, want := range []bool{true, false, true} {
			now := clock.Advance(time.Second)
			got, err := db.ToggleTask(ctx, u.ID, task.ID)
			must(t, err)
			if got.Completed != want || !got.UpdatedAt.Equal(now) || !got.CreatedAt.Equal(task.CreatedAt) || got.Title != task.Title {
				t.Fatalf("toggle %d: %+v, want completed=%v updated %v", i, got, want, now)
			}
			stored, err := db.FindTask(ctx, u.ID, task.ID)
			must(t, err)
			if *stored != *got {
				t.Fatalf("toggle %d: stored %+v, returned %+v", i, stored, got)
			}
		}
	})
}

func TestDeleteTask(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		a := &latchkey.Task{UserID: u.ID, Title: "a"}
		b := &latchkey.Task{UserID: u.ID, Title: "b"}
		must(t, db.CreateTask(ctx, a))
		must(t, db.CreateTask(ctx, b))
		must(t, db.DeleteTask(ctx, u.ID, a.ID))
		_, err := db.FindTask(ctx, u.ID, a.ID)
		wantCode(t, err, latchkey.ENOTFOUND)
		wantCode(t, db.DeleteTask(ctx, u.ID, a.ID), latchkey.ENOTFOUND)
		if _, err := db.FindTask(ctx, u.ID, b.ID); err != nil {
			t.Fatalf("deleting a removed b: %v", err)
		}
	})
}

// seedTasks creates n tasks for userID, four per clock tick so that
// created_at ties are common; every third is completed. It returns them in
// the order ListTasks must: newest first by (created_at, id).
func seedTasks(t testing.TB, db *sqldb.DB, userID string, n int) []*latchkey.Task {
	t.Helper()
	clock := clockOf(db)
	var out []*latchkey.Task
	for i := range n {
		if i%4 == 0 {
			clock.Advance(time.Millisecond)
		}
		task := &latchkey.Task{UserID: userID, Title: fmt.Sprintf("task %d", i), Completed: i%3 == 0}
		must(t, db.CreateTask(ctx, task))
		out = append(out, task)
	}
	slices.SortFunc(out, func(a, b *latchkey.Task) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out
}

// listAll pages through the list with the given page size, checking each
// page's length and cursor, and returns every task it saw.
func listAll(t *testing.T, db *sqldb.DB, f latchkey.TaskFilter, total int) []*latchkey.Task {
	t.Helper()
	var all []*latchkey.Task
	for page := 0; ; page++ {
		if page > total+1 {
			t.Fatal("pagination does not end")
		}
		got, next, err := db.ListTasks(ctx, f)
		must(t, err)
		all = append(all, got...)
		remaining := total - len(all)
		switch {
		case remaining > 0 && (len(got) != f.Limit || next == nil):
			t.Fatalf("page %d: %d tasks, next %v; %d more to come", page, len(got), next, remaining)
		case remaining <= 0 && next != nil:
			t.Fatalf("page %d: next cursor %v after the last task", page, next)
		case remaining < 0:
			t.Fatalf("listed %d tasks, want %d", len(all), total)
		}
		if next == nil {
			return all
		}
		last := got[len(got)-1]
		if !next.CreatedAt.Equal(last.CreatedAt) || next.ID != last.ID {
			t.Fatalf("page %d: cursor %+v is not the last task %+v", page, next, last)
		}
		// Go through the opaque form clients see.
		c, err := latchkey.DecodeCursor(next.Encode())
		must(t, err)
		f.After = c
	}
}

func TestListTasksPagination(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		other := newUser(t, db)
		want := seedTasks(t, db, u.ID, 23)
		seedTasks(t, db, other.ID, 5)

		byStatus := map[latchkey.TaskStatus][]*latchkey.Task{latchkey.TaskStatusAll: want}
		for _, task := range want {
			s := latchkey.TaskStatusPending
			if task.Completed {
				s = latchkey.TaskStatusCompleted
			}
			byStatus[s] = append(byStatus[s], task)
		}
		for status, want := range byStatus {
			for _, limit := range []int{1, 3, 4, 7, len(want) - 1, len(want), len(want) + 1, 200} {
				name := fmt.Sprintf("%s/limit=%d", status, limit)
				got := listAll(t, db, latchkey.TaskFilter{UserID: u.ID, Status: status, Limit: limit}, len(want))
				if len(got) != len(want) {
					t.Fatalf("%s: %d tasks, want %d", name, len(got), len(want))
				}
				for i := range want {
					if *got[i] != *want[i] {
						t.Fatalf("%s: task %d = %+v, want %+v", name, i, got[i], want[i])
					}
				}
			}
		}
	})
}

func TestListTasksStatus(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		tasks := seedTasks(t, db, u.ID, 9) // 0, 3, 6 completed
		for _, tt := range []struct {
			status latchkey.TaskStatus
			want   int
		}{{latchkey.TaskStatusAll, 9}, {"", 9}, {latchkey.TaskStatusPending, 6}, {latchkey.TaskStatusCompleted, 3}} {
			got, next, err := db.ListTasks(ctx, latchkey.TaskFilter{UserID: u.ID, Status: tt.status, Limit: 50})
			must(t, err)
			if len(got) != tt.want || next != nil {
				t.Fatalf("status %q: %d tasks, next %v; want %d", tt.status, len(got), next, tt.want)
			}
			for _, task := range got {
				if (tt.status == latchkey.TaskStatusPending && task.Completed) ||
					(tt.status == latchkey.TaskStatusCompleted && !task.Completed) {
					t.Fatalf("status %q lists %+v", tt.status, task)
				}
			}
		}
		// Toggling moves a task between the filtered lists.
		_, err := db.ToggleTask(ctx, u.ID, tasks[0].ID)
		must(t, err)
		got, _, err := db.ListTasks(ctx, latchkey.TaskFilter{UserID: u.ID, Status: latchkey.TaskStatusCompleted, Limit: 50})
		must(t, err)
		wantDone := 4
		if tasks[0].Completed {
			wantDone = 2
		}
		if len(got) != wantDone {
			t.Fatalf("after toggle: %d completed, want %d", len(got), wantDone)
		}

		_, _, err = db.ListTasks(ctx, latchkey.TaskFilter{UserID: u.ID, Status: "done", Limit: 50})
		wantCode(t, err, latchkey.EINVALID)
	})
}

func TestListTasksEmptyAndDefaultLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		got, next, err := db.ListTasks(ctx, latchkey.TaskFilter{UserID: u.ID, Status: latchkey.TaskStatusAll, Limit: 10})
		must(t, err)
		if len(got) != 0 || next != nil {
			t.Fatalf("empty list: %v, %v", got, next)
		}
		seedTasks(t, db, u.ID, latchkey.DefaultPageSize+1)
		got, next, err = db.ListTasks(ctx, latchkey.TaskFilter{UserID: u.ID})
		must(t, err)
		if len(got) != latchkey.DefaultPageSize || next == nil {
			t.Fatalf("default limit: %d tasks, next %v", len(got), next)
		}
	})
}

// A cursor positioned on a deleted task still continues just after it.
func TestListTasksCursorAfterDelete(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		want := seedTasks(t, db, u.ID, 8)
		page, next, err := db.ListTasks(ctx, latchkey.TaskFilter{UserID: u.ID, Limit: 3})
		must(t, err)
		must(t, db.DeleteTask(ctx, u.ID, page[2].ID))
		got, _, err := db.ListTasks(ctx, latchkey.TaskFilter{UserID: u.ID, Limit: 3, After: next})
		must(t, err)
		for i, task := range got {
			if task.ID != want[3+i].ID {
				t.Fatalf("task %d after the cursor is %s, want %s", i, task.ID, want[3+i].ID)
			}
		}
	})
}

// Toggles from two handles at once (two processes) are never lost: an odd
// number of them leaves the task completed.
func TestToggleTaskConcurrent(t *testing.T) {
	forEachEngineLoc(t, func(t *testing.T, e engine, loc string) {
		a := openMigrated(t, e, loc)
		b := openMigrated(t, e, loc)
		u := newUser(t, a)
		task := &latchkey.Task{UserID: u.ID, Title: "flip"}
		must(t, a.CreateTask(ctx, task))
		const n = 21
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			db := a
			if i%2 == 1 {
				db = b
			}
			wg.Go(func() { _, errs[i] = db.ToggleTask(ctx, u.ID, task.ID) })
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		got, err := b.FindTask(ctx, u.ID, task.ID)
		must(t, err)
		if !got.Completed {
			t.Fatalf("after %d toggles the task is not completed: a toggle was lost", n)
		}
	})
}
