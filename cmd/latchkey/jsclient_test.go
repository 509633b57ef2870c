package main

// TestJSClient runs the Node tests of @latchkey/client (clients/js/test,
// Node's own test runner, no dependency) against the real binary: one
// `latchkey serve` with a 2 s access-token life, so that the tests see
// tokens expire and the client refresh them.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
)

// jsClientDir is the package, relative to this directory.
const jsClientDir = "../../clients/js"

// jsClientPassword is the password of every user the Node tests make
// (clients/js/test/helpers.mjs); Latchkey's log must never hold it.
const jsClientPassword = "node-client-password-1234"

// needNode returns node's path when it is at least version 20 (the
// package's engines). Without it the test fails under CI=true and is
// skipped elsewhere, saying why.
func needNode(t *testing.T) string {
	t.Helper()
	missing := ""
	node, err := exec.LookPath("node")
	if err != nil {
		missing = "node is not installed"
	} else if out, err := exec.Command(node, "--version").Output(); err != nil {
		missing = "node --version: " + err.Error()
	} else if major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".", 2)[0]); major < 20 {
		missing = "node " + strings.TrimSpace(string(out)) + " is older than 20, which @latchkey/client needs"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("@latchkey/client tests: %s", missing)
		}
		t.Skipf("@latchkey/client tests skipped: %s (install Node 20 or later to run them)", missing)
	}
	return node
}

// nodeSummary matches the totals node's spec reporter prints last
// ("ℹ pass 31").
var nodeSummary = regexp.MustCompile(`(?m)^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$`)

func TestJSClient(t *testing.T) {
	t.Parallel()
	node := needNode(t)
	dir, err := filepath.Abs(jsClientDir)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "lk.db")
	// No rate limit on /api/auth: the tests sign up and refresh far more
	// than 60 times a minute from one address.
	p := spawn(t, filepath.Dir(db), childEnv("LATCHKEY_ACCESS_TTL=2s", "LATCHKEY_AUTH_RATE=0"),
		"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:"+db).waitReady(t)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The test files by name: given test/, Node 20 would also run helpers.mjs.
	files, err := filepath.Glob(filepath.Join(dir, "test", "*.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no clients/js/test/*.test.mjs: %v", err)
	}
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=spec"}, files...)...)
	cmd.Dir = dir
	cmd.Env = childEnv(
		"LATCHKEY_URL="+p.base,
		"LATCHKEY_ACCESS_TTL=2s",
		// For the test that reads the verification mail (latchkey mail list).
		"LATCHKEY_BIN="+binPath,
		"LATCHKEY_DATABASE_URL=sqlite:"+db,
		"NO_COLOR=1",
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("node --test test/ in clients/js failed after %v (%v):\n%s", took.Round(time.Millisecond), err, out)
	}
	totals := map[string]int{}
	for _, m := range nodeSummary.FindAllStringSubmatch(string(out), -1) {
		totals[m[1]], _ = strconv.Atoi(m[2])
	}
	// Every test ran: none skipped (the mail test needs LATCHKEY_BIN, set
	// above), and the files were found at all.
	if totals["tests"] < 30 || totals["pass"] != totals["tests"] || totals["skipped"] != 0 || totals["todo"] != 0 {
		t.Fatalf("node --test totals %v: want at least 30 tests, all passed, none skipped:\n%s", totals, out)
	}
	t.Logf("node --test: %d tests passed in %v", totals["pass"], took.Round(time.Millisecond))
	testkit.AssertNoSecrets(t, p.log.String(), jsClientPassword)
}
