package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
)

// TestE2EAuditCountsRejections: the binary records a burst of rejected
// tokens from one address as one event at once and, when it stops within
// the minute, one more with the count of the rest; `latchkey audit` shows
// the counts, and the log has one line for each event.
func TestE2EAuditCountsRejections(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	p := serveBin(t, dbPath)
	c := testkit.NewClient(t, p.base, nil)
	const n = 200
	for range n {
		c.Call("GET", "/api/auth/me", "garbage.token.value", nil).Problem(t, http.StatusUnauthorized, "invalid_token")
	}
	audit := func() string {
		t.Helper()
		out, err := exec.Command(binPath, "audit", "--type", "token_rejected", "--database-url", "sqlite:"+dbPath).CombinedOutput()
		if err != nil {
			t.Fatalf("audit: %v\n%s", err, out)
		}
		return string(out)
	}
	// COUNT is the third column; the rows are newest first.
	counts := func(out string) []int {
		var cs []int
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			f := strings.Fields(line)
			k, err := strconv.Atoi(f[2])
			if err != nil || f[1] != "token_rejected" {
				t.Fatalf("audit row %q", line)
			}
			cs = append(cs, k)
		}
		return cs
	}
	var out string
	if _, ok := testkit.Poll(5*time.Second, 50*time.Millisecond, func() bool {
		out = audit()
		return strings.Count(out, "\n") > 1
	}); !ok {
		t.Fatalf("no token_rejected event within 5 s:\n%s", out)
	}
	if cs := counts(out); len(cs) != 1 || cs[0] != 1 {
		t.Fatalf("during the burst, audit shows counts %v, want [1]:\n%s", cs, out)
	}
	if code, _ := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("serve exited %d\n%s", code, p.log)
	}
	out = audit()
	if cs := counts(out); len(cs) != 2 || cs[0] != n-1 || cs[1] != 1 {
		t.Fatalf("after stopping, audit shows counts %v, want [%d 1]:\n%s", cs, n-1, out)
	}
	lines := regexp.MustCompile(`msg=audit type=token_rejected .* count=(\d+)`).FindAllStringSubmatch(p.log.String(), -1)
	if len(lines) != 2 || lines[0][1] != "1" || lines[1][1] != strconv.Itoa(n-1) {
		t.Fatalf("token_rejected log lines %q, want two, counting 1 and %d", lines, n-1)
	}
}
