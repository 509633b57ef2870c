package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
)

// TestErrorMapping checks every contract code has its status, and that an
// error which is not an application error leaks nothing.
func TestErrorMapping(t *testing.T) {
	for code, status := range map[string]int{
		latchkey.EINVALID: 400, latchkey.EVALIDATION: 400, latchkey.EMISSINGTOKEN: 401,
		latchkey.EINVALIDTOKEN: 401, latchkey.ETOKENEXPIRED: 401, latchkey.ETOKENREVOKED: 401,
		latchkey.EINVALIDCREDENTIALS: 401, latchkey.EFORBIDDEN: 403, latchkey.EACCOUNTDISABLED: 403,
		latchkey.ENOTFOUND: 404, latchkey.EEMAILTAKEN: 409, latchkey.ERATELIMITED: 429,
		latchkey.EUNAVAILABLE: 503, latchkey.EINTERNAL: 500,
	} {
		w := httptest.NewRecorder()
		writeError(w, httptest.NewRequest("GET", "/", nil), slog.New(slog.DiscardHandler), latchkey.Errorf(code, "m"))
		if w.Code != status {
			t.Errorf("%s: status %d, want %d", code, w.Code, status)
		}
	}
	w := httptest.NewRecorder()
	writeError(w, httptest.NewRequest("GET", "/", nil), slog.New(slog.DiscardHandler), errors.New("sqlite: disk I/O error at /secret/path"))
	var p problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusInternalServerError || p.Code != "internal" || strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("internal error answer: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	writeError(w, httptest.NewRequest("GET", "/", nil), slog.New(slog.DiscardHandler), errTooLarge)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d", w.Code)
	}
}

// TestPanicIsA500 checks a panicking handler answers problem+json 500 and
// the server goes on.
func TestPanicIsA500(t *testing.T) {
	s := &server{Config: Config{Logger: slog.New(slog.DiscardHandler)}, metrics: newMetrics(prometheus.NewRegistry())}
	h := s.instrument(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" || strings.Contains(w.Body.String(), "boom") {
		t.Fatalf("panic answer: %d %s", w.Code, w.Body)
	}
}

// FuzzDecode: request bodies are hostile. decode must never panic and must
// fail only with invalid_request.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"title":"x","completed":true}`, `{"title":`, `{"a":1}`, `null`, "{\"title\":\"\xff\"}", `{} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(string(body)))
		_, err := decode[taskInput](httptest.NewRecorder(), r, false)
		if err != nil && latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Fatalf("decode error %v has code %s", err, latchkey.ErrorCode(err))
		}
	})
}
