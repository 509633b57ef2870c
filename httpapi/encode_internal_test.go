package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
)

// TestErrorMapping checks every contract code has its status, and that an
// error which is not an application error leaks nothing.
func TestErrorMapping(t *testing.T) {
	for code, status := range map[string]int{
		latchkey.EINVALID: 400, latchkey.EVALIDATION: 400, latchkey.EMISSINGTOKEN: 401,
		latchkey.EINVALIDTOKEN: 401, latchkey.ETOKENEXPIRED: 401, latchkey.ETOKENREVOKED: 401,
		latchkey.EINVALIDCREDENTIALS: 401, latchkey.EMFAREQUIRED: 401, latchkey.EFORBIDDEN: 403, latchkey.EACCOUNTDISABLED: 403,
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

// TestDecodeStrict: what the request-body decoder accepts, and the detail of
// each refusal, which names at most a field, never a value of the body.
func TestDecodeStrict(t *testing.T) {
	for _, tc := range []struct{ body, detail string }{
		{`{"title":"x","description":"","completed":true}`, ""},
		{`{"title":"\ud83d\ude00","description":"\uD83D\uDE00"}`, ""},
		{`{"title":"\u0041\ufffd"}`, ""}, // U+FFFD itself is a character
		{`null`, ""},
		{" {} \n", ""},
		{`{"Title":"x"}`, `unknown field "Title"`},
		{`{"TITLE":"x"}`, `unknown field "TITLE"`},
		{"{\"completed\":true,\"compl\u0117ted\":false}", `unknown field "complėted"`},
		{`{"title":"x","title":"y"}`, `duplicate field "title"`},
		{`{"title":"x","t\u0069tle":"y"}`, `duplicate field "title"`},
		{`{"completed":true,"completed":true}`, `duplicate field "completed"`},
		{`{"title":"\ud800"}`, "invalid escape sequence in a string (a lone surrogate is one)"},
		{`{"title":"\udfff"}`, "invalid escape sequence in a string (a lone surrogate is one)"},
		{`{"title":"x\udbff"}`, "invalid escape sequence in a string (a lone surrogate is one)"},
		{`{"title":"\ud800\ud800"}`, "invalid escape sequence in a string (a lone surrogate is one)"},
		{`{"title":"\ude00\ud83d"}`, "invalid escape sequence in a string (a lone surrogate is one)"},
		{`{"\udc00":1}`, "invalid escape sequence in a string (a lone surrogate is one)"},
		{"{\"title\":\"a\xffb\"}", "request body is not valid UTF-8"},
		{"{\"title\":\"\xed\xa0\x80\"}", "request body is not valid UTF-8"}, // a surrogate in raw UTF-8
		{`{"title":"x"} {}`, "unexpected data after the JSON value"},
		{`{"title":"x"}x`, "unexpected data after the JSON value"},
		{`{"title":42}`, "wrong type for field title"},
		{`[1]`, "wrong JSON type"},
		{`{"title":`, "malformed JSON"},
		{`{"secret-value":1}`, `unknown field "secret-value"`},
		{`{"` + strings.Repeat("s", 65) + `":1}`, "unknown field"},
		{"{\"a\\u001b[31m\":1}", "unknown field"},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		_, err := decode[taskInput](httptest.NewRecorder(), r, false)
		switch {
		case tc.detail == "" && err != nil:
			t.Errorf("%q: %v", tc.body, err)
		case tc.detail != "" && (latchkey.ErrorCode(err) != latchkey.EINVALID || latchkey.ErrorMessage(err) != tc.detail):
			t.Errorf("%q: %v, want invalid_request %q", tc.body, err, tc.detail)
		}
	}
}

// decodeDetail matches every detail decode may give: fixed texts, and a
// field name of at most 64 printable characters.
var decodeDetail = regexp.MustCompile(`^(request body is empty|request body over 1 MiB|could not read request body|malformed JSON|wrong JSON type|` +
	`request body is not valid UTF-8|unexpected data after the JSON value|invalid escape sequence in a string \(a lone surrogate is one\)|` +
	`(unknown|duplicate) field( "(\\.|[^"\\]){1,64}")?|wrong type for field [^\s]{1,64})$`)

// FuzzDecode: request bodies are hostile. decode must never panic, must fail
// only with invalid_request and a detail of decodeDetail's, and what it
// accepts must keep the rules: raw UTF-8 valid, member names exactly the
// fields' and each once, no escaped lone surrogate turned into U+FFFD.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"title":"x","completed":true}`, `{"title":`, `{"a":1}`, `null`, "{\"title\":\"\xff\"}", `{} {}`,
		`{"Title":"x"}`, `{"title":"x","title":"y"}`, `{"title":"\ud800"}`, `{"title":"\ud83d\ude00"}`,
		`{"description":"\udc00x"}`, `{"t\u0069tle":"x"}`, "{\"comp\u212aeted\":true}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(string(body)))
		v, err := decode[taskInput](httptest.NewRecorder(), r, false)
		if err != nil {
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !decodeDetail.MatchString(latchkey.ErrorMessage(err)) {
				t.Fatalf("decode error %v: code %s", err, latchkey.ErrorCode(err))
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted invalid UTF-8: %q", body)
		}
		checkNames(t, body)
		for _, s := range []*string{v.Title, v.Description} {
			if s != nil && strings.ContainsRune(*s, utf8.RuneError) && !mayHoldFFFD(body) {
				t.Fatalf("%q decoded to %q: a U+FFFD the body did not hold", body, *s)
			}
		}
	})
}

// checkNames reads body's top-level member names with encoding/json's
// tokenizer, an independent reader: each must be a field of taskInput,
// spelt exactly, and none may come twice.
func checkNames(t *testing.T, body []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return // null: no names
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%q: accepted, but encoding/json fails on it: %v", body, err)
		}
		name := tok.(string)
		if name != "title" && name != "description" && name != "completed" || seen[name] {
			t.Fatalf("%q: accepted member %q (seen before: %v)", body, name, seen[name])
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%q: accepted, but encoding/json fails on it: %v", body, err)
		}
	}
}

// mayHoldFFFD reports whether body spells U+FFFD itself, raw or escaped.
func mayHoldFFFD(body []byte) bool {
	return bytes.ContainsRune(body, utf8.RuneError) || bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`))
}

// TestExtraMembers: an extraError's members join the problem document, but
// never replace its own members; the status, the challenge and the headers
// are those of the error it wraps.
func TestExtraMembers(t *testing.T) {
	err := &extraError{err: latchkey.Errorf(latchkey.EMFAREQUIRED, "second step"),
		members: map[string]any{"mfa_token": "t", "expires_in": 300, "code": "forged", "status": 200}}
	w := httptest.NewRecorder()
	writeError(w, httptest.NewRequest("POST", "/", nil), slog.New(slog.DiscardHandler), err)
	var m map[string]any
	if e := json.Unmarshal(w.Body.Bytes(), &m); e != nil {
		t.Fatal(e)
	}
	if w.Code != 401 || m["code"] != "mfa_required" || m["status"] != float64(401) || m["mfa_token"] != "t" ||
		m["expires_in"] != float64(300) || m["detail"] != "second step" || m["type"] != "about:blank" {
		t.Errorf("%d %v", w.Code, m)
	}
	if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="latchkey"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
	if w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", w.Header())
	}
}
