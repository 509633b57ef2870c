package httpapi

import (
	"slices"
	"testing"
)

func TestCookiePaths(t *testing.T) {
	for path, want := range map[string][]string{
		"/api/auth/refresh": {"/", "/api", "/api/", "/api/auth", "/api/auth/", "/api/auth/refresh"},
		"/api/auth/signout": {"/", "/api", "/api/", "/api/auth", "/api/auth/", "/api/auth/signout"},
		"/":                 {"/"},
		"/a/":               {"/", "/a", "/a/"},
	} {
		if got := cookiePaths(path); !slices.Equal(got, want) {
			t.Errorf("cookiePaths(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestCookieDomains(t *testing.T) {
	for host, want := range map[string][]string{
		"auth.example.com":       {"", "auth.example.com", "example.com"},
		"Auth.Example.COM.:8443": {"", "auth.example.com", "example.com"},
		"a.b.example.co.uk":      {"", "a.b.example.co.uk", "b.example.co.uk", "example.co.uk", "co.uk"},
		"localhost:8080":         {""},
		"127.0.0.1:8080":         {""},
		"[::1]:8080":             {""},
		"[::1]":                  {""},
		"":                       {""},
		"a.b.c.d.e.f.g.h.i.j.k":  {"", "a.b.c.d.e.f.g.h.i.j.k", "b.c.d.e.f.g.h.i.j.k", "c.d.e.f.g.h.i.j.k", "d.e.f.g.h.i.j.k", "e.f.g.h.i.j.k", "f.g.h.i.j.k", "g.h.i.j.k", "h.i.j.k"},
	} {
		if got := cookieDomains(host); !slices.Equal(got, want) {
			t.Errorf("cookieDomains(%q) = %q, want %q", host, got, want)
		}
	}
}
