package httpapi

import (
	"net"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
)

// The refresh cookie carries the refresh token for the web app. HttpOnly,
// SameSite=Strict and the Origin check on cookie calls keep other sites
// from using it. Served over TLS it is hostRefreshCookie: browsers accept a
// __Host- cookie only when it is Secure, has Path=/ and no Domain, so no
// other host, a sibling subdomain included, can set one beside ours
// (cookie tossing). Over plain HTTP, where Secure is impossible, it is
// refreshCookie with Path=/api/auth, and a request carrying more than one
// is refused (refreshToken).
const (
	refreshCookie     = "latchkey_refresh"
	hostRefreshCookie = "__Host-" + refreshCookie
)

// maxCookieDomains bounds the Domain attributes clearRefreshCookies tries:
// the host and its parents, at most this many.
const maxCookieDomains = 8

var errCookieTossed = latchkey.Errorf(latchkey.EINVALIDTOKEN, "more than one refresh cookie came; they are cleared, so sign in again")

// refreshCookieFor returns the refresh cookie's name and path for r, and
// whether it is Secure: over TLS, and when the issuer is https: (browsers
// then reach us through a TLS-ending proxy).
func (s *server) refreshCookieFor(r *http.Request) (name, path string, secure bool) {
	if r.TLS != nil || strings.HasPrefix(s.issuerOrigin, "https://") {
		return hostRefreshCookie, "/", true
	}
	return refreshCookie, "/api/auth", false
}

// setRefreshCookie sets the cookie, or clears it when maxAge <= 0.
func (s *server) setRefreshCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	name, path, secure := s.refreshCookieFor(r)
	if maxAge <= 0 {
		value, maxAge = "", -1
	}
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteStrictMode,
	})
}

// refreshCookies returns every refresh cookie r carries, from all its
// Cookie headers. Only the name refreshCookieFor gives is read: over TLS a
// plain latchkey_refresh cookie, which any sibling subdomain could have set,
// is ignored.
func (s *server) refreshCookies(r *http.Request) []*http.Cookie {
	name, _, _ := s.refreshCookieFor(r)
	return r.CookiesNamed(name)
}

// clearRefreshCookies answers a request that carried more than one refresh
// cookie. The server cannot tell which is ours, nor where the others were
// set, so it clears the name at every path the request's path matches
// (Path=/api/auth and the request's own among them), host-only and for the
// host and each parent domain: a cookie planted by a sibling subdomain has
// Domain set to a parent. Otherwise the next refresh would carry only the
// planted cookie and sign the browser in to its owner's account. A
// __Host- cookie can only exist at Path=/ with no Domain.
func (s *server) clearRefreshCookies(w http.ResponseWriter, r *http.Request) {
	name, _, secure := s.refreshCookieFor(r)
	if name == hostRefreshCookie {
		s.setRefreshCookie(w, r, "", 0)
		return
	}
	for _, domain := range cookieDomains(r.Host) {
		for _, path := range cookiePaths(r.URL.Path) {
			http.SetCookie(w, &http.Cookie{Name: name, Path: path, Domain: domain, MaxAge: -1,
				HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
		}
	}
}

// cookiePaths returns every cookie path a browser sends with a request for
// path: "/", each prefix ending before or at a slash, and path itself.
func cookiePaths(path string) []string {
	paths := []string{"/"}
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			paths = append(paths, path[:i], path[:i+1])
		}
	}
	if path != "/" && !strings.HasSuffix(path, "/") {
		paths = append(paths, path)
	}
	return paths
}

// cookieDomains returns "" (host-only) and, for a DNS name, the Domain
// attributes a cookie sent to host can carry: the host and its parents of
// two labels or more (a browser refuses a public suffix, so the extra
// one costs nothing).
func cookieDomains(host string) []string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	domains := []string{""}
	if host == "" || net.ParseIP(host) != nil || strings.Trim(host, "[]") != host {
		return domains
	}
	labels := strings.Split(host, ".")
	for i := 0; i+2 <= len(labels) && len(domains) <= maxCookieDomains; i++ {
		domains = append(domains, strings.Join(labels[i:], "."))
	}
	return domains
}
