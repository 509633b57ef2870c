package js

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// dist/ is what tsc makes of src/ today: the package, and the web app that
// embeds it, never ship stale or hand-edited output. tsc comes from the
// package's pinned devDependency (npm ci, which the test command runs).
func TestDistUpToDate(t *testing.T) {
	tsc := filepath.Join("node_modules", ".bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("clients/js has no node_modules/.bin/tsc: run npm ci there (scripts/test.sh does)")
		}
		t.Skip("clients/js has no node_modules/.bin/tsc (npm ci there; scripts/test.sh does): dist/ not checked")
	}
	out := t.TempDir()
	if b, err := exec.Command(tsc, "-p", ".", "--outDir", out).CombinedOutput(); err != nil {
		t.Fatalf("tsc: %v\n%s", err, b)
	}
	want := files(t, out)
	got := files(t, "dist")
	for name, body := range want {
		if !bytes.Equal(got[name], body) {
			t.Errorf("dist/%s is not what tsc makes of src/: run npx tsc -p . in clients/js and commit dist/", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("dist/%s comes from no file of src/: remove it", name)
		}
	}
}

func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}
