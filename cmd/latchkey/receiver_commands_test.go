package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/pgtest"
)

// secretLine is what `receiver add` prints on stdout: the secret alone.
var secretLine = regexp.MustCompile(`^lkr_[A-Za-z0-9_-]{43}\n$`)

// openStoreAt opens the store of env's LATCHKEY_DATABASE_URL, as the
// commands do.
func openStoreAt(t *testing.T, env map[string]string) *app.Store {
	t.Helper()
	cfg, err := app.Load("receiver list", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	db, err := app.OpenStore(context.Background(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addReceiver runs `receiver add` and returns the secret, checking that
// stdout is the secret alone and stderr does not hold it.
func addReceiver(t *testing.T, env map[string]string, name, audience string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, env, "", "receiver", "add", "--name", name, "--audience", audience)
	if code != 0 || !secretLine.MatchString(stdout) {
		t.Fatalf("receiver add %q: exit %d, stdout %q, stderr %q", name, code, stdout, stderr)
	}
	secret := strings.TrimSuffix(stdout, "\n")
	if strings.Contains(stderr, secret) || !strings.Contains(stderr, name) {
		t.Fatalf("receiver add: stderr %q", stderr)
	}
	return secret
}

// TestReceiverCommands: `receiver add` prints a fresh secret alone on
// stdout and stores its hash only; `list` shows name, audience, date and
// stream count and no secret nor hash; `remove` deletes the receiver and
// its streams. A duplicate name, an unknown one, bad names and audiences
// and bad usage are refused with nothing printed on stdout.
func TestReceiverCommands(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lk.db")
	env := map[string]string{"LATCHKEY_DATABASE_URL": "sqlite:" + path}
	if code, _, stderr := runCLI(t, env, "", "receiver", "list"); code != 2 {
		t.Fatalf("receiver list with no store: exit %d, %q", code, stderr)
	}
	secret := addReceiver(t, env, "notes-api", "https://notes.example")
	other := addReceiver(t, env, "billing", "https://billing.example/\u00e9t\u00e9")
	if secret == other {
		t.Fatal("two receivers got one secret")
	}
	db := openStoreAt(t, env)
	ctx := context.Background()
	r, err := db.FindReceiverBySecretHash(ctx, latchkey.HashReceiverSecret(secret))
	if err != nil || r.Name != "notes-api" || r.Audience != "https://notes.example" {
		t.Fatalf("stored receiver %+v, %v", r, err)
	}
	for range 2 {
		if err := db.CreateStream(ctx, &latchkey.Stream{ReceiverID: r.ID}); err != nil {
			t.Fatal(err)
		}
	}

	// A duplicate name: exit 1, one line, no secret printed.
	code, stdout, stderr := runCLI(t, env, "", "receiver", "add", "--name", "notes-api", "--audience", "https://x.example")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "notes-api exists") {
		t.Fatalf("duplicate name: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	wantOneLineError(t, stderr)

	code, stdout, stderr = runCLI(t, env, "", "receiver", "list")
	if code != 0 {
		t.Fatalf("receiver list: exit %d, %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		!regexp.MustCompile(`^billing +https://billing\.example/été +\d{4}-\d\d-\d\dT\S+ +0$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^notes-api +https://notes\.example +\d{4}-\d\d-\d\dT\S+ +2$`).MatchString(lines[2]) {
		t.Fatalf("receiver list:\n%s", stdout)
	}
	for _, s := range []string{secret, other} {
		if strings.Contains(stdout+stderr, s) || strings.Contains(stdout, hex.EncodeToString(latchkey.HashReceiverSecret(s))) {
			t.Fatal("receiver list shows a secret or its hash")
		}
	}

	code, stdout, _ = runCLI(t, env, "", "receiver", "remove", "--name", "notes-api")
	if code != 0 || !strings.HasPrefix(stdout, "removed receiver notes-api") {
		t.Fatalf("receiver remove: exit %d, %q", code, stdout)
	}
	if _, err := db.FindReceiverBySecretHash(ctx, latchkey.HashReceiverSecret(secret)); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		t.Fatalf("a removed receiver's secret: %v", err)
	}
	if ss, err := db.ListStreams(ctx, r.ID); err != nil || len(ss) != 0 {
		t.Fatalf("a removed receiver's streams: %d, %v", len(ss), err)
	}
	code, stdout, stderr = runCLI(t, env, "", "receiver", "remove", "--name", "notes-api")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "no receiver named notes-api") {
		t.Fatalf("removing an unknown receiver: exit %d, %q, %q", code, stdout, stderr)
	}
	wantOneLineError(t, stderr)
	code, stdout, _ = runCLI(t, env, "", "receiver", "list")
	if code != 0 || strings.Contains(stdout, "notes-api") || !strings.Contains(stdout, "billing") {
		t.Fatalf("receiver list after remove: %d, %q", code, stdout)
	}
	// Both changes are audited, with no actor (the host's command line).
	for _, typ := range []string{latchkey.AuditReceiverAdded, latchkey.AuditReceiverRemoved} {
		events, _, err := db.ListAudit(ctx, latchkey.AuditFilter{Type: typ, Limit: 10})
		if err != nil || !slices.ContainsFunc(events, func(e *latchkey.AuditEvent) bool {
			return e.Reason == "receiver=notes-api" && e.ActorID == ""
		}) {
			t.Fatalf("no %s event for notes-api: %d events, %v", typ, len(events), err)
		}
	}
	// The name is free again, with a new secret.
	if again := addReceiver(t, env, "notes-api", "https://notes.example"); again == secret {
		t.Fatal("a re-added receiver got its old secret")
	}

	// The store holds neither secret in plain text.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(other)) {
			t.Fatalf("the database file %s holds a secret", path+suffix)
		}
	}
}

// TestReceiverAddRefuses: bad names and audiences and bad usage are
// usage errors (2), a name taken is a failure (1); none prints anything
// on stdout nor stores anything.
func TestReceiverAddRefuses(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LATCHKEY_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "lk.db")}
	addReceiver(t, env, strings.Repeat("n", latchkey.MaxReceiverName), strings.Repeat("a", latchkey.MaxReceiverAudience))
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no name", []string{"--audience", "https://a.example"}},
		{"no audience", []string{"--name", "a"}},
		{"blank name", []string{"--name", "  ", "--audience", "https://a.example"}},
		{"padded name", []string{"--name", " a", "--audience", "https://a.example"}},
		{"name too long", []string{"--name", strings.Repeat("é", latchkey.MaxReceiverName+1), "--audience", "https://a.example"}},
		{"two-line name", []string{"--name", "a\nb", "--audience", "https://a.example"}},
		{"name with ESC", []string{"--name", "a\x1b[31m", "--audience", "https://a.example"}},
		{"name with RLO", []string{"--name", "a\u202eb", "--audience", "https://a.example"}},
		{"name not UTF-8", []string{"--name", "a\xff", "--audience", "https://a.example"}},
		{"audience too long", []string{"--name", "a", "--audience", strings.Repeat("a", latchkey.MaxReceiverAudience+1)}},
		{"audience with a newline", []string{"--name", "a", "--audience", "https://a.example\n"}},
		{"audience with NUL", []string{"--name", "a", "--audience", "https://a.example\x00"}},
		{"argument", []string{"--name", "a", "--audience", "https://a.example", "extra"}},
	} {
		code, stdout, stderr := runCLI(t, env, "", append([]string{"receiver", "add"}, tc.args...)...)
		if code != 2 || stdout != "" || strings.ContainsAny(stderr, "\x1b\u202e") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2, nothing on stdout", tc.name, code, stdout, stderr)
		}
		wantOneLineError(t, stderr)
	}
	code, stdout, _ := runCLI(t, env, "", "receiver", "list")
	if code != 0 || strings.Count(stdout, "\n") != 2 {
		t.Fatalf("after refusals, receiver list: exit %d\n%s", code, stdout)
	}
	for _, args := range [][]string{{"receiver"}, {"receiver", "rotate"}, {"receiver", "remove"}, {"receiver", "list", "x"}} {
		if code, _, stderr := runCLI(t, env, "", args...); code != 2 {
			t.Errorf("latchkey %q: exit %d, want 2", args, code)
		} else {
			wantOneLineError(t, stderr)
		}
	}
}

// TestReceiverCommandsPostgres: the three commands on PostgreSQL.
func TestReceiverCommandsPostgres(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LATCHKEY_DATABASE_URL": pgtest.Shared(t).URL(t), "LATCHKEY_SECRET_KEY": pgSecret}
	secret := addReceiver(t, env, "pg-api", "https://pg.example")
	if code, _, stderr := runCLI(t, env, "", "receiver", "add", "--name", "pg-api", "--audience", "https://pg.example"); code != 1 {
		t.Fatalf("duplicate on PostgreSQL: exit %d, %q", code, stderr)
	}
	db := openStoreAt(t, env)
	if _, err := db.FindReceiverBySecretHash(context.Background(), latchkey.HashReceiverSecret(secret)); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := runCLI(t, env, "", "receiver", "list"); code != 0 || !strings.Contains(stdout, "pg-api") {
		t.Fatalf("receiver list: %d, %q", code, stdout)
	}
	if code, _, _ := runCLI(t, env, "", "receiver", "remove", "--name", "pg-api"); code != 0 {
		t.Fatalf("receiver remove: %d", code)
	}
	if code, _, _ := runCLI(t, env, "", "receiver", "remove", "--name", "pg-api"); code != 1 {
		t.Fatalf("receiver remove again: %d", code)
	}
}
