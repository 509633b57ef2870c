package httpapi

import (
	"embed"
	"net/http"
)

//go:embed web
var webFS embed.FS

// contentSecurityPolicy allows the app's own files and nothing else: no
// inline script, no eval, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func handleWebApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		http.ServeFileFS(w, r, webFS, "web/index.html")
	})
}
