package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey"
)

// loopbackNames may be named in Host on a connection that reached a
// loopback address.
var loopbackNames = map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}

// hostSet is the issuer's host name and the allowed ones, lower-case, IPv6
// addresses without brackets. Entries that are not host names are left out.
func hostSet(issuer string, allowed []string) map[string]bool {
	set := map[string]bool{}
	if u, err := url.Parse(issuer); err == nil && u.Hostname() != "" {
		set[strings.ToLower(u.Hostname())] = true
	}
	for _, h := range allowed {
		if name, ok := hostName(h); ok {
			set[name] = true
		} else if a, err := netip.ParseAddr(h); err == nil {
			set[strings.ToLower(a.String())] = true // IPv6 without brackets
		}
	}
	return set
}

// hostName reads a Host header: a name or an IPv4 address, or an IPv6
// address in brackets, with a port of digits or none. It returns the name
// in lower case, an IPv6 address in its short form without brackets, and
// false for anything else.
func hostName(host string) (string, bool) {
	name, port := host, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		name, port = host[:i], host[i+1:]
	}
	if strings.Trim(port, "0123456789") != "" || len(port) > 5 {
		return "", false
	}
	if b, ok := strings.CutPrefix(name, "["); ok {
		b, ok = strings.CutSuffix(b, "]")
		a, err := netip.ParseAddr(b)
		if !ok || err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
		return a.String(), true
	}
	if name == "" || strings.ContainsAny(name, ":[]") {
		return "", false
	}
	return strings.ToLower(name), true
}

// localAddr is the address r's connection reached, which net/http
// records in every request's context; false without one.
func localAddr(r *http.Request) (netip.Addr, bool) {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return netip.Addr{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().WithZone("").Unmap(), true
}

// allowedHost reports whether r's Host names this server, with any port
// or none: the issuer's host or an allowed one; on a connection that
// reached a loopback address, localhost, 127.0.0.1 or [::1]; or the very
// address the connection reached, written as an address (a scraper or a
// probe that dials an IP). DNS rebinding needs a name the attacker owns,
// so an address in Host is never one.
func (s *server) allowedHost(r *http.Request) bool {
	name, ok := hostName(r.Host)
	if !ok {
		return false
	}
	if s.hosts[name] {
		return true
	}
	local, ok := localAddr(r)
	if !ok {
		return false
	}
	if local.IsLoopback() && loopbackNames[name] {
		return true
	}
	a, err := netip.ParseAddr(name)
	return err == nil && a.Unmap() == local
}

// anyHost are the paths served whatever the Host (see refuseMisdirected).
var anyHost = map[string]bool{"/healthz": true, "/readyz": true, "/.well-known/jwks.json": true, "/api/auth/jwks": true}

// refuseMisdirected answers 421 to a request whose Host names another
// server, before any route sees it: after DNS rebinding, a page on the
// attacker's name reaches this server from a victim's browser with its own
// name in Host, and would otherwise pass the Origin checks, which compare
// Origin with Host. /healthz and /readyz answer whatever the Host: load
// balancers and probes name none, or an address the server cannot know
// (a node's, a pod's), and they tell nothing but up or down. So do the two
// JWKS paths: the keys are public and take no cookie, and the services
// that fetch them often name the server by an internal name (a compose
// service, a Kubernetes service) that no setting lists.
func (s *server) refuseMisdirected(next http.Handler) http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		if !s.allowedHost(r) && !anyHost[r.URL.Path] {
			return latchkey.Errorf(latchkey.EMISDIRECTED, "this server does not answer for the host named in the request")
		}
		next.ServeHTTP(w, r)
		return nil
	})
}
