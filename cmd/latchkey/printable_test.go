package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/testkit"
)

// hiddenIn returns the first character of out that a terminal would not
// show as itself (anything strconv.IsPrint refuses but newline, and a byte
// that is not UTF-8), quoted, or "" when there is none.
func hiddenIn(out string) string {
	for i, r := range out {
		if r == utf8.RuneError && !strings.HasPrefix(out[i:], "\uFFFD") {
			return strconv.Quote(out[i : i+1])
		}
		if r != '\n' && !strconv.IsPrint(r) {
			return strconv.QuoteRune(r)
		}
	}
	return ""
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"plain ascii, with space":    "plain ascii, with space",
		"Zoë 李 שלום 👩":               "Zoë 李 שלום 👩",
		"a\x1b[2Jb":                  `a\x1b[2Jb`,
		"\x1b]0;title\x07":           `\x1b]0;title\a`,
		"line\nbreak\ttab\rcr":       `line\nbreak\ttab\rcr`,
		"\x00\x7f\u0085\u009b":       `\x00\x7f\u0085\u009b`,
		"\u202eevil\u2066\u200f":     `\u202eevil\u2066\u200f`,
		"zero\u200bwidth\ufeff":      `zero\u200bwidth\ufeff`,
		"bad \xff\xfe utf-8":         `bad \xff\xfe utf-8`,
		"\U000e0001 tag":             `\U000e0001 tag`,
		`back\slash stays as it was`: `back\slash stays as it was`,
	} {
		got := printable(in)
		if got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
		if h := hiddenIn(got); h != "" {
			t.Errorf("printable(%q) still holds %s", in, h)
		}
	}
}

// TestRunOutputEscaped: what the commands print comes partly from outside
// (an external issuer's subject, an email on the command line, a token's
// claims). None of it may reach the terminal raw: an ESC sequence could
// clear the screen, retitle the window or hide lines, a bidirectional
// control reorder a line. Every command's stdout and stderr holds only
// printable characters and newlines, the odd ones escaped.
func TestRunOutputEscaped(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	dbURL := "sqlite:" + dbPath
	secret := strings.Repeat("s", 32)
	const iss, aud = "https://issuer.example", "latchkey-tests"
	s := serveInProcess(t, map[string]string{
		"LATCHKEY_TRUSTED_ISSUER": iss, "LATCHKEY_TRUSTED_AUDIENCE": aud, "LATCHKEY_TRUSTED_SECRET": secret,
	}, dbPath)
	c := testkit.NewClient(t, s.base, nil)

	// cli runs the command named by words, its flags (the database first)
	// and arguments after them.
	cli := func(stdin, words string, args ...string) (int, string, string) {
		t.Helper()
		args = append(append(strings.Fields(words), "--database-url", dbURL), args...)
		code, stdout, stderr := runCLI(t, nil, stdin, args...)
		for what, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
			if h := hiddenIn(out); h != "" {
				t.Errorf("latchkey %q: %s holds %s raw:\n%q", args, what, h, out)
			}
		}
		return code, stdout, stderr
	}
	if code, _, stderr := cli("root password 1234\n", "user create", "--email", "root@example.com", "--role", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("user create: exit %d: %s", code, stderr)
	}
	root := c.SignIn("root@example.com", "root password 1234")

	// The external issuer's subject becomes a user id, and the admin's
	// disabling of it an audit row naming it.
	sub := "ext-\x1b[2J\x1b]0;owned\x07-\u202eevil\u009b31m-\u200b"
	ext := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": iss, "aud": aud, "sub": sub, "exp": time.Now().Add(time.Hour).Unix(),
	})
	ext.Header["typ"] = "at+jwt"
	tok, err := ext.SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	c.Call("GET", "/api/"+url.PathEscape(sub)+"/tasks", tok, nil).WantStatus(t, http.StatusOK)
	c.Call("PATCH", "/api/admin/users/"+url.PathEscape(sub), root.AccessToken, map[string]any{"disabled": true}).WantStatus(t, http.StatusOK)

	code, stdout, _ := cli("", "audit", "--limit", "10")
	if code != 0 || !strings.Contains(stdout, printable(sub)) {
		t.Errorf("audit: exit %d; the escaped subject %s is not in:\n%s", code, printable(sub), stdout)
	}
	// The claims are printed before the verdict; this token is not ours.
	if code, stdout, _ := cli("", "token inspect", tok); code != 1 || !strings.Contains(stdout, `\u202eevil`) {
		t.Errorf("token inspect: exit %d:\n%s", code, stdout)
	}
	evil := "x\x1b[2J\u202e@example.com"
	if code, _, stderr := cli("", "user disable", "--email", evil); code != 1 || !strings.Contains(stderr, printable(evil)) {
		t.Errorf("user disable: exit %d: %q", code, stderr)
	}
	if code, _, _ := cli("pw for the evil one\n", "user create", "--email", evil, "--name", "n\x1b[31m", "--password-stdin"); code != 2 {
		t.Errorf("user create with a hidden character: exit %d, want 2", code)
	}
	if code, _, _ := cli("", "user disable", "--\x1b[2J"); code != 2 {
		t.Errorf("user disable with a bad flag: exit %d, want 2", code)
	}
	if code, _, _ := cli("", "keys rotate"); code != 0 {
		t.Errorf("keys rotate: exit %d", code)
	}
	if code, _, _ := cli("", "migrate"); code != 0 {
		t.Errorf("migrate: exit %d", code)
	}
	// serve logs with slog's text handler, which quotes such values itself.
	if h := hiddenIn(s.log.String()); h != "" {
		t.Errorf("the server's log holds %s raw", h)
	}
}
