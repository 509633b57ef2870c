package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	js "github.com/latchkey/latchkey/clients/js"
)

// The web app: plain HTML, CSS and ES modules under web/, embedded in the
// binary. index.html is served at "/", everything else under "/assets/";
// @latchkey/client's compiled modules (package js) under "/assets/client/".
//
//go:embed web
var webFS embed.FS

// clientDir is where the app finds @latchkey/client.
const clientDir = "assets/client/"

// contentSecurityPolicy allows the app's own files and nothing else: no
// inline script or style, no eval, no framing, no request to another origin.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// webTypes are the content types of the files the app may contain. A file
// with any other extension makes loading the app fail, so that no file is
// ever served with a type the browser has to guess.
var webTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// webFile is one embedded file, read once.
type webFile struct {
	name  string
	body  []byte
	ctype string
	etag  string
}

// webFiles maps a path under web/ ("index.html", "assets/app.js") to its file.
var webFiles = mustLoadWebFiles(webFS, js.Dist)

func mustLoadWebFiles(app, client fs.FS) map[string]*webFile {
	files := map[string]*webFile{}
	err := loadWebFiles(files, app, "web", "")
	if err == nil {
		err = loadWebFiles(files, client, "dist", clientDir)
	}
	if err == nil && files["index.html"] == nil {
		err = fmt.Errorf("httpapi: web app has no index.html")
	}
	if err != nil {
		panic(err)
	}
	return files
}

// loadWebFiles adds the files under dir of fsys to files, named under
// prefix instead of dir.
func loadWebFiles(files map[string]*webFile, fsys fs.FS, dir, prefix string) error {
	return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ctype, ok := webTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("httpapi: web app file %s has no known content type", p)
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		name := prefix + strings.TrimPrefix(p, dir+"/")
		files[name] = &webFile{name: name, body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
}

// serveWebFile answers with f. Every app file carries the CSP; "no-cache"
// with an ETag makes the browser revalidate (a 304 when nothing changed),
// so a new binary's app is picked up at the next load.
func serveWebFile(w http.ResponseWriter, r *http.Request, f *webFile) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// handleWebApp serves index.html at "/". The app routes in the URL fragment
// (#/tasks, #/account), so no other page path exists.
func (s *server) handleWebApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveWebFile(w, r, webFiles["index.html"])
	})
}

// handleWebAssets serves the app's files under /assets/: exact file paths
// only, no directory listings; anything else is the usual problem+json 404.
func (s *server) handleWebAssets() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		name := strings.TrimPrefix(r.URL.Path, "/")
		f := webFiles[name]
		if f == nil || !strings.HasPrefix(name, "assets/") {
			return latchkey.Errorf(latchkey.ENOTFOUND, "no such resource")
		}
		serveWebFile(w, r, f)
		return nil
	})
}
