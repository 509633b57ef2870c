package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPISpec is the hand-written OpenAPI 3.1 description of the API.
// openapi_test.go checks it against the routes registered in routes.go.
//
//go:embed openapi.yaml
var openAPISpec []byte

// handleOpenAPI serves the OpenAPI description.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(openAPISpec)
	})
}
