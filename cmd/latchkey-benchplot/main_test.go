package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

func TestRenderFixtures(t *testing.T) {
	dir := t.TempDir()
	load := filepath.Join(dir, "load.json")
	growth := filepath.Join(dir, "growth.json")
	write(t, load, `{"concurrency": 2, "results": [
		{"scenario": "list", "rps": 1000, "p50_ms": 1, "p90_ms": 2, "p99_ms": 3},
		{"scenario": "healthz", "rps": 5000, "p50_ms": 0.2, "p90_ms": 0.4, "p99_ms": 0.9}]}`)
	write(t, growth, `{"series": [{"name": "list", "sizes": [10, 1000], "ns_op": [30000, 40000]}]}`)
	if err := run(load, growth, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"throughput.png", "latency.png", "growth.png"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, pngMagic) || len(b) < 1000 {
			t.Errorf("%s: %d bytes, not a PNG", name, len(b))
		}
	}
}

func TestRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	growth := filepath.Join(dir, "growth.json")
	write(t, growth, `{"series": [{"name": "x", "sizes": [10, 1000], "ns_op": [1]}]}`)
	if err := run("", growth, dir); err == nil {
		t.Error("mismatched sizes and values: want an error")
	}
	if err := run("", "", dir); err == nil {
		t.Error("no input: want an error")
	}
	empty := filepath.Join(dir, "load.json")
	write(t, empty, `{"results": []}`)
	if err := run(empty, "", dir); err == nil {
		t.Error("empty load report: want an error")
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
