package httpapi_test

import (
	"context"
	"testing"
)

// hiddenChars are characters a name or a title refuses, one of each kind:
// C0 and C1 controls, bidirectional controls, zero-width characters.
var hiddenChars = map[string]string{
	"ESC sequence": "\x1b[2J", "NUL": "\x00", "newline": "\n", "tab": "\t", "DEL": "\x7f",
	"C1 CSI": "\u009b", "RLO": "\u202e", "LRI": "\u2066", "RLM": "\u200f", "ALM": "\u061c",
	"ZWSP": "\u200b", "BOM": "\ufeff", "word joiner": "\u2060", "line separator": "\u2028",
}

// TestTextFieldCharacters: a sign-up name and a task title refuse control,
// bidirectional-control and zero-width characters; a description allows
// only newline, tab and CRLF of them. Each is 400 validation_failed on its
// field, and nothing is stored.
func TestTextFieldCharacters(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	tasks := "/api/" + g.User.ID + "/tasks"
	task := h.createTask(g, "keep")["id"].(string)
	onField := func(t *testing.T, r response, field string) {
		t.Helper()
		m := r.Problem(t, 400, "validation_failed")
		errs := m["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["field"] != field {
			t.Errorf("errors = %v, want one on %s", errs, field)
		}
	}
	for kind, c := range hiddenChars {
		t.Run(kind, func(t *testing.T) {
			onField(t, h.Do(req{Method: "POST", Path: "/api/auth/signup",
				Body: map[string]string{"email": "mallory@example.com", "password": testPassword, "name": "Mal" + c + "lory"}}), "name")
			onField(t, h.Do(req{Method: "POST", Path: tasks, Bearer: g.AccessToken, Body: map[string]string{"title": "pay " + c + "invoice"}}), "title")
			onField(t, h.Do(req{Method: "PATCH", Path: tasks + "/" + task, Bearer: g.AccessToken, Body: map[string]string{"title": "a" + c + "b"}}), "title")
			onField(t, h.Do(req{Method: "PUT", Path: tasks + "/" + task, Bearer: g.AccessToken,
				Body: map[string]any{"title": "t" + c + "x", "description": "", "completed": true}}), "title")
			if c == "\n" || c == "\t" {
				return // a description may hold these
			}
			onField(t, h.Do(req{Method: "POST", Path: tasks, Bearer: g.AccessToken, Body: map[string]string{"title": "t", "description": "see " + c + "here"}}), "description")
			onField(t, h.Do(req{Method: "PATCH", Path: tasks + "/" + task, Bearer: g.AccessToken, Body: map[string]string{"description": c}}), "description")
		})
	}
	// A lone CR overwrites a terminal line; CRLF is a textarea's line break.
	onField(t, h.Do(req{Method: "PATCH", Path: tasks + "/" + task, Bearer: g.AccessToken, Body: map[string]string{"description": "paid\rnot paid"}}), "description")
	if _, err := h.store.FindUserByEmail(context.Background(), "mallory@example.com"); err == nil {
		t.Error("a name with a hidden character was signed up")
	}
	if got := h.Do(req{Method: "GET", Path: tasks + "/" + task, Bearer: g.AccessToken}).JSON(t); got["title"] != "keep" || got["description"] != "" {
		t.Errorf("a refused update changed the task: %v", got)
	}
	list := h.Do(req{Method: "GET", Path: tasks, Bearer: g.AccessToken}).JSON(t)["tasks"].([]any)
	if len(list) != 1 {
		t.Errorf("a refused create stored a task: %v", list)
	}

	// What people write passes: line breaks and tabs in a description, ZWJ
	// emoji and ZWNJ words, right-to-left text, surrounding space trimmed.
	r := h.Do(req{Method: "PATCH", Path: tasks + "/" + task, Bearer: g.AccessToken,
		Body: map[string]string{"title": "👩\u200d💻 review می\u200cخواهم", "description": "1. milk\r\n2. bread\n\t- the dark one"}})
	if got := r.JSON(t); r.Status != 200 || got["description"] != "1. milk\r\n2. bread\n\t- the dark one" {
		t.Errorf("plain text refused: %d %v", r.Status, got)
	}
	up := h.Grant(h.Do(req{Method: "POST", Path: "/api/auth/signup",
		Body: map[string]string{"email": "noa@example.com", "password": testPassword, "name": "  נועה 👨\u200d👩\u200d👧\n"}}), 201)
	if up.User.Name != "נועה 👨\u200d👩\u200d👧" {
		t.Errorf("name = %q", up.User.Name)
	}
}
