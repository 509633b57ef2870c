package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
)

// TestE2ECrashKeepsAcknowledgedWrites: under a create load the server is
// killed with SIGKILL and started again on the same file; every task whose
// 201 a client received is still there.
func TestE2ECrashKeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	p := serveBin(t, dbPath, "--auth-rate", "0")
	g := testkit.NewClient(t, p.base, nil).SignUp("crash@example.com", "crash test password", "")
	tasks := "/api/" + g.User.ID + "/tasks"

	client := &http.Client{Timeout: 5 * time.Second}
	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5000; i++ { // bounded; the kill ends it sooner
				select {
				case <-stop:
					return
				default:
				}
				body, _ := json.Marshal(map[string]string{"title": "crash " + string(rune('a'+w))})
				req, _ := http.NewRequest("POST", p.base+tasks, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+g.AccessToken)
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				var task testkit.Task
				json.NewDecoder(resp.Body).Decode(&task)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					mu.Lock()
					acked[task.ID] = true
					mu.Unlock()
				}
			}
		}()
	}
	// Let some writes land, then kill without warning.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no task was acknowledged before the kill")
	}

	q := serveBin(t, dbPath, "--auth-rate", "0")
	c := testkit.NewClient(t, q.base, nil)
	found := map[string]bool{}
	cursor := ""
	for range 1000 {
		path := tasks + "?limit=200"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := c.Call("GET", path, g.AccessToken, nil)
		r.WantStatus(t, http.StatusOK)
		var page struct {
			Tasks      []testkit.Task `json:"tasks"`
			NextCursor *string        `json:"next_cursor"`
		}
		r.Decode(t, &page)
		for _, x := range page.Tasks {
			found[x.ID] = true
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	lost := 0
	for id := range acked {
		if !found[id] {
			lost++
		}
	}
	t.Logf("%d tasks acknowledged before SIGKILL, %d listed after restart", len(acked), len(found))
	if lost > 0 {
		t.Fatalf("%d acknowledged tasks are gone after the crash", lost)
	}
}
