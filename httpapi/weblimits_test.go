package httpapi_test

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
)

// webLimits are the constants web/assets/limits.js must export, with the
// server's values: a form that stops short of the server's limit refuses
// what the server takes, and one that goes past it lets a person type what
// the server will refuse.
var webLimits = map[string]int{
	"MAX_TASK_TITLE_LEN":   latchkey.MaxTaskTitleLen,
	"MAX_TASK_DESC_LEN":    latchkey.MaxTaskDescLen,
	"MIN_PASSWORD_LEN":     auth.MinPasswordLen,
	"MAX_PASSWORD_LEN":     auth.MaxPasswordLen,
	"MAX_NAME_LEN":         auth.MaxNameLen,
	"MAX_PAGE_SIZE":        latchkey.MaxPageSize,
	"MAX_PASSKEY_NAME_LEN": auth.MaxPasskeyNameLen,
	"TOTP_DIGITS":          auth.TOTPDigits,
}

var jsExportedNumber = regexp.MustCompile(`(?m)^export const ([A-Za-z0-9_$]+) = (\d+);`)

func TestWebLimitsMatchServer(t *testing.T) {
	src, err := os.ReadFile("web/assets/limits.js")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, m := range jsExportedNumber.FindAllStringSubmatch(string(src), -1) {
		n, err := strconv.Atoi(m[2])
		if err != nil {
			t.Fatalf("limits.js: %s = %s: %v", m[1], m[2], err)
		}
		got[m[1]] = n
	}
	for name, want := range webLimits {
		n, ok := got[name]
		switch {
		case !ok:
			t.Errorf("limits.js does not export %s (want `export const %s = %d;`)", name, name, want)
		case n != want:
			t.Errorf("limits.js: %s = %d, the server's limit is %d", name, n, want)
		}
	}
	// A limit added to the module but not here would drift unnoticed.
	for name := range got {
		if _, ok := webLimits[name]; !ok {
			t.Errorf("limits.js exports %s, which no Go constant is checked against: add it to webLimits", name)
		}
	}
}

// The other modules take the limits from limits.js. A number written out in
// a maxlength, a length check or a message would not follow a change there,
// and TestWebLimitsMatchServer would not see it.
func TestWebLimitsNotRepeated(t *testing.T) {
	values := map[int]bool{}
	for _, n := range webLimits {
		values[n] = true
	}
	var alts []string
	for n := range values {
		alts = append(alts, strconv.Itoa(n))
	}
	sort.Strings(alts)
	repeats := []struct {
		what string
		re   *regexp.Regexp
	}{
		{"a hard-coded maxlength", regexp.MustCompile(`(?i)maxlength['"]?\s*[:,=]\s*['"]?\d+`)},
		{"a length written out in a message", regexp.MustCompile(`\b\d+\s+(?:to\s+\d+\s+)?characters\b`)},
		{"a comparison with a limit's number", regexp.MustCompile(`[<>]=?\s*(?:` + strings.Join(alts, "|") + `)\b`)},
	}
	comments := regexp.MustCompile(`(?s:/\*.*?\*/)|(?m:^\s*//.*$)`)
	checked := 0
	for name, body := range webFiles(t) {
		if !strings.HasSuffix(name, ".js") || name == "assets/limits.js" {
			continue
		}
		checked++
		code := comments.ReplaceAllString(string(body), "")
		for _, r := range repeats {
			for _, m := range r.re.FindAllString(code, -1) {
				t.Errorf("%s: %s (%q): use the constants of limits.js", name, r.what, m)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no .js file under web/ besides limits.js")
	}
}
