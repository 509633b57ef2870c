package testkit

import (
	"regexp"
	"testing"
)

// AssertNoCodes fails when log shows any of the mailed 6-digit codes as a
// value of its own: after '=', a quote, a colon or a space, and before a
// quote, a comma, a space or the end of a line. AssertNoSecrets skips
// strings this short, and a bare search would match any six digits of a
// duration or a port.
func AssertNoCodes(t testing.TB, log string, codes ...string) {
	t.Helper()
	for _, c := range codes {
		if c == "" {
			continue
		}
		re := regexp.MustCompile(`(?m)(^|[\s="':])` + regexp.QuoteMeta(c) + `($|[\s"',])`)
		if re.MatchString(log) {
			t.Errorf("the server log contains a mailed code (%s)", c)
		}
	}
}
