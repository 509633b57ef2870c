package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// FuzzClientIP throws arbitrary X-Forwarded-For values at clientIP behind a
// trusted proxy: the key is never the proxy's address, never empty, and is
// either an address in one spelling (no zone, no port, IPv4 unmapped) or at
// most 64 bytes of printable ASCII.
func FuzzClientIP(f *testing.F) {
	for _, s := range []string{
		"203.0.113.7", "203.0.113.7:5678", "[2001:db8::1]:80", "[2001:db8::1]", "fe80::1%eth0",
		"[fe80::1%eth0]:80", "::ffff:192.0.2.1", "a, b, 198.51.100.1", "unknown", "", " , ", "[::1",
		"1.2.3.4%eth0", "%", "[%]", "caf\xc3\xa9",
	} {
		f.Add(s)
	}
	s := &server{Config: Config{TrustProxy: true}}
	f.Fuzz(func(t *testing.T, xff string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "the proxy" // no key can be this: it holds a space
		r.Header.Set("X-Forwarded-For", xff)
		ip := s.clientIP(r)
		if ip == "" || ip == r.RemoteAddr {
			t.Fatalf("X-Forwarded-For %q: key %q", xff, ip)
		}
		if a, err := netip.ParseAddr(ip); err == nil {
			if a.Zone() != "" || a.Is4In6() || a.String() != ip {
				t.Fatalf("X-Forwarded-For %q: address %q is not in one spelling", xff, ip)
			}
			return
		}
		if len(ip) > maxForwardedText {
			t.Fatalf("X-Forwarded-For %q: text key of %d bytes", xff, len(ip))
		}
		for i := 0; i < len(ip); i++ {
			if ip[i] <= ' ' || ip[i] >= 0x7f {
				t.Fatalf("X-Forwarded-For %q: key %q holds byte %#x", xff, ip, ip[i])
			}
		}
	})
}
