// Package pgtest starts throwaway PostgreSQL clusters for tests: initdb in
// a temporary directory, a server on a free loopback port, a random
// password, fsync off. Each test package that needs PostgreSQL starts its
// own cluster (Main), so that a test may stop and restart its server
// without disturbing other packages running at the same time.
//
// When PostgreSQL is not installed, tests skip with a message saying so;
// under CI=true they fail instead. scripts/test.sh installs it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Cluster is a running (or stopped) throwaway PostgreSQL server.
type Cluster struct {
	bin      string // directory of initdb, pg_ctl
	dir      string // parent of data/, owned by the server's user
	data     string
	port     int
	password string
	cred     *syscall.Credential // nil when not root

	mu     sync.Mutex
	admin  *sql.DB
	schema int
}

var (
	shared     *Cluster
	sharedErr  error
	sharedOnce sync.Once
)

// Main runs the package's tests and stops the package's shared cluster,
// if one was started. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// StopShared destroys the package's shared cluster, if one was started:
// for a TestMain that does more than Main.
func StopShared() {
	if shared != nil {
		shared.Destroy()
	}
}

// Shared returns the package's shared cluster, starting it on first use;
// it skips tb (fails it under CI=true) when PostgreSQL is not installed.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		Unavailable(tb, sharedErr)
	}
	return shared
}

// New starts a cluster for tb alone, destroyed when tb ends: for tests
// that stop and restart the server.
func New(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := Start()
	if err != nil {
		Unavailable(tb, err)
	}
	tb.Cleanup(c.Destroy)
	return c
}

// ErrNotInstalled is returned by Start when no PostgreSQL server binaries
// are found.
var ErrNotInstalled = errors.New("PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or on PATH); bash scripts/test.sh installs it")

// Unavailable skips tb because of err, or fails it under CI=true, where
// every dependency must be present.
func Unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("PostgreSQL tests cannot run under CI=true: %v", err)
	}
	tb.Skipf("skipping PostgreSQL test: %v", err)
}

// findBin returns the directory holding initdb and pg_ctl: the newest
// Debian install, or PATH.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNotInstalled
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start creates and starts a new cluster.
func Start() (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "latchkey-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), password: randomHex(16)}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: run the server as the postgres
		// user the Debian package creates, or nobody.
		if c.cred, err = unprivileged(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(c.password+"\n"), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if c.cred != nil {
		os.Chown(pwfile, int(c.cred.Uid), int(c.cred.Gid))
	}
	if out, err := c.run("initdb", "-D", c.data, "-U", "latchkey", "--pwfile", pwfile,
		"-A", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	os.Remove(pwfile)
	for attempt := 0; ; attempt++ {
		if c.port, err = freePort(); err != nil {
			break
		}
		if err = c.Restart(); err == nil || attempt == 4 {
			break
		}
	}
	if err != nil {
		c.Destroy()
		return nil, err
	}
	return c, nil
}

func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and there is no postgres or nobody user to run PostgreSQL as")
}

func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Restart starts the server (again, after Stop or Kill), on the same port,
// and waits until it accepts connections. fsync is off (a throwaway
// cluster need not survive the machine crashing) but commits still wait
// for the WAL write, so Kill loses no acknowledged transaction.
func (c *Cluster) Restart() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
		c.port, c.dir)
	if out, err := c.run("pg_ctl", "-D", c.data, "-o", opts, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "30", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	return nil
}

// Stop shuts the server down fast: sessions are cut, as in a failover.
func (c *Cluster) Stop() error {
	c.closeAdmin()
	if out, err := c.run("pg_ctl", "-D", c.data, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Kill stops the server without a shutdown checkpoint, as a crash would.
func (c *Cluster) Kill() error {
	c.closeAdmin()
	if out, err := c.run("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Destroy stops the server if it runs and removes its files.
func (c *Cluster) Destroy() {
	c.closeAdmin()
	c.run("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.dir)
}

func (c *Cluster) closeAdmin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.admin != nil {
		c.admin.Close()
		c.admin = nil
	}
}

// BaseURL is the URL of the cluster's postgres database.
func (c *Cluster) BaseURL() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("latchkey", c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// URL creates a fresh, empty schema and returns a URL whose connections
// use it (search_path), so that each test has a database of its own
// without the cost of CREATE DATABASE. The schema is dropped when tb ends.
func (c *Cluster) URL(tb testing.TB) string {
	tb.Helper()
	c.mu.Lock()
	if c.admin == nil {
		db, err := sql.Open("pgx", c.BaseURL())
		if err != nil {
			c.mu.Unlock()
			tb.Fatal(err)
		}
		c.admin = db
	}
	c.schema++
	name := fmt.Sprintf("t%d_%s", c.schema, randomHex(4))
	admin := c.admin
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		c.mu.Lock()
		admin := c.admin
		c.mu.Unlock()
		if admin != nil {
			admin.Exec("DROP SCHEMA " + name + " CASCADE")
		}
	})
	return c.BaseURL() + "&search_path=" + name
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
