package httpapi_test

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
)

// webFiles lists the app's files as they are on disk (and so embedded):
// paths under web/, such as "index.html" and "assets/app.js", and
// @latchkey/client's compiled modules as "assets/client/index.js".
func webFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for dir, prefix := range map[string]string{"web": "", "../clients/js/dist": "assets/client/"} {
		err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, ".d.ts") {
				return err
			}
			b, err := os.ReadFile(dir + "/" + p)
			files[prefix+p] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files["assets/client/index.js"] == nil {
		t.Fatalf("clients/js/dist lacks index.js")
	}
	if files["index.html"] == nil || files["assets/app.js"] == nil {
		t.Fatalf("web/ lacks index.html or assets/app.js: %d files", len(files))
	}
	return files
}

var wantTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// Every file of the app is served from the binary with its own content
// type, the strict CSP, nosniff, and revalidation by ETag.
func TestWebAppFilesServed(t *testing.T) {
	h := newHarness(t, options{})
	for name, body := range webFiles(t) {
		urlPath := "/" + name
		if name == "index.html" {
			urlPath = "/"
		}
		r := h.Do(req{Method: "GET", Path: urlPath})
		if r.Status != http.StatusOK || !bytes.Equal(r.Body, body) {
			t.Errorf("GET %s: status %d, body equal to web/%s: %v", urlPath, r.Status, name, bytes.Equal(r.Body, body))
			continue
		}
		if got, want := r.Header.Get("Content-Type"), wantTypes[path.Ext(name)]; want == "" || got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", urlPath, got, want)
		}
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", urlPath, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-") || strings.Contains(csp, "*") || strings.Contains(csp, "http") {
			t.Errorf("GET %s: CSP %q allows more than the app's own origin", urlPath, csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: security headers %v", urlPath, r.Header)
		}
		etag := r.Header.Get("ETag")
		if r.Header.Get("Cache-Control") != "no-cache" || etag == "" {
			t.Errorf("GET %s: Cache-Control %q ETag %q, want no-cache and an ETag", urlPath, r.Header.Get("Cache-Control"), etag)
			continue
		}
		if again := h.Do(req{Method: "GET", Path: urlPath, Header: map[string]string{"If-None-Match": etag}}); again.Status != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match: status %d, want 304", urlPath, again.Status)
		}
	}
}

// Only the app's files are served: no listing, no path outside assets/.
func TestWebAppNothingElse(t *testing.T) {
	h := newHarness(t, options{})
	for _, p := range []string{"/assets/", "/assets", "/assets/nope.js", "/index.html", "/assets/../index.html", "/web/index.html", "/assets/app.js/"} {
		r := h.Do(req{Method: "GET", Path: p})
		if r.Status == http.StatusOK {
			t.Errorf("GET %s: 200, want no such resource", p)
		}
	}
	h.Do(req{Method: "GET", Path: "/assets/nope.js"}).Problem(t, http.StatusNotFound, "not_found")
	h.Do(req{Method: "POST", Path: "/assets/app.js"}).Problem(t, http.StatusNotFound, "not_found")
}

// The app's sources keep the promises the CSP and the contract make: no
// inline script or style, no markup built from strings, no token in web
// storage or a script-readable cookie, and nothing fetched from elsewhere.
func TestWebAppSourceRules(t *testing.T) {
	files := webFiles(t)
	html := string(files["index.html"])
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with inline code
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)<style`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		regexp.MustCompile(`(?i)javascript:`),
	} {
		if m := re.FindString(html); m != "" {
			t.Errorf("index.html: %q breaks the CSP rules (matched %s)", m, re)
		}
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(html, -1) {
		if !strings.Contains(tag, ` src="/assets/`) {
			t.Errorf("index.html: %s is not a script file of the app", tag)
		}
	}
	comments := regexp.MustCompile(`(?s:/\*.*?\*/)|(?m:^\s*//.*$)`)
	forbidden := []string{
		"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
		"localStorage", "sessionStorage", "document.cookie", ".style.", "setAttribute('style'", "setTimeout('", "setInterval('",
		// No token in a URL the app builds: a mailed link's one-time token
		// (and the access token) go only in a body or a header.
		"token=",
	}
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for name, body := range files {
		text := string(body)
		if strings.HasSuffix(name, ".js") {
			code := comments.ReplaceAllString(text, "")
			for _, f := range forbidden {
				if strings.Contains(code, f) {
					t.Errorf("%s uses %q", name, f)
				}
			}
		}
		for _, m := range external.FindAllString(text, -1) {
			if m != "http://www.w3.org" { // the SVG namespace, never fetched
				t.Errorf("%s refers to another host: %s", name, m)
			}
		}
	}
}

// The passkey screens turn base64url into bytes and back themselves:
// PublicKeyCredential's JSON helpers (parseCreationOptionsFromJSON,
// parseRequestOptionsFromJSON, toJSON) are missing from browsers still in
// use. The one-time secrets of two-factor sign-in (the mfa_token, the
// TOTP key, recovery codes) stay out of URLs the app builds.
func TestWebAppWebAuthnByHand(t *testing.T) {
	files := webFiles(t)
	comments := regexp.MustCompile(`(?s:/\*.*?\*/)|(?m:^\s*//.*$)`)
	for name, body := range files {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		code := comments.ReplaceAllString(string(body), "")
		for _, f := range []string{"parseCreationOptionsFromJSON", "parseRequestOptionsFromJSON", ".toJSON(", "mfa_token=", "secret=", "recovery_code="} {
			if strings.Contains(code, f) {
				t.Errorf("%s uses %q", name, f)
			}
		}
	}
	wa := string(files["assets/webauthn.js"])
	for _, want := range []string{"export function fromB64u", "export function toB64u", "navigator.credentials.create", "navigator.credentials.get"} {
		if !strings.Contains(wa, want) {
			t.Errorf("assets/webauthn.js lacks %q", want)
		}
	}
}
