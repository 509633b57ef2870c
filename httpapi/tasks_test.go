package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func (h *harness) createTask(g grant, title string) map[string]any {
	h.t.Helper()
	r := h.Do(req{Method: "POST", Path: "/api/" + g.User.ID + "/tasks", Bearer: g.AccessToken, Body: map[string]string{"title": title}})
	if r.Status != 201 {
		h.t.Fatalf("create task: %d %s", r.Status, r.Body)
	}
	return r.JSON(h.t)
}

func TestTaskCRUD(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	base := "/api/" + g.User.ID + "/tasks"

	r := h.Do(req{Method: "POST", Path: base, Bearer: g.AccessToken, Body: map[string]string{"title": "  Buy milk  ", "description": "2 litres"}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	task := r.JSON(t)
	id := task["id"].(string)
	if task["title"] != "Buy milk" || task["description"] != "2 litres" || task["completed"] != false || task["user_id"] != g.User.ID {
		t.Errorf("created = %v", task)
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if task[k] == "" || task[k] == nil {
			t.Errorf("task lacks %s", k)
		}
	}
	if loc := r.Header.Get("Location"); loc != base+"/"+id {
		t.Errorf("Location = %q", loc)
	}

	if got := h.Do(req{Method: "GET", Path: base + "/" + id, Bearer: g.AccessToken}).JSON(t); got["id"] != id {
		t.Errorf("get = %v", got)
	}

	r = h.Do(req{Method: "PUT", Path: base + "/" + id, Bearer: g.AccessToken, Body: map[string]any{"title": "Buy oat milk", "description": "", "completed": true}})
	if got := r.JSON(t); r.Status != 200 || got["title"] != "Buy oat milk" || got["description"] != "" || got["completed"] != true {
		t.Errorf("put: %d %v", r.Status, got)
	}
	h.Do(req{Method: "PUT", Path: base + "/" + id, Bearer: g.AccessToken, Body: map[string]any{"title": "x"}}).Problem(t, 400, "validation_failed")

	r = h.Do(req{Method: "PATCH", Path: base + "/" + id, Bearer: g.AccessToken, Body: map[string]any{"description": "barista"}})
	if got := r.JSON(t); r.Status != 200 || got["title"] != "Buy oat milk" || got["description"] != "barista" || got["completed"] != true {
		t.Errorf("patch: %d %v", r.Status, got)
	}
	for want := range []bool{false, true} {
		r = h.Do(req{Method: "PATCH", Path: base + "/" + id + "/complete", Bearer: g.AccessToken})
		if got := r.JSON(t); r.Status != 200 || got["completed"] != (want == 1) {
			t.Errorf("toggle %d: %d %v", want, r.Status, got)
		}
	}
	if r := h.Do(req{Method: "DELETE", Path: base + "/" + id, Bearer: g.AccessToken}); r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	h.Do(req{Method: "GET", Path: base + "/" + id, Bearer: g.AccessToken}).Problem(t, 404, "not_found")
	h.Do(req{Method: "DELETE", Path: base + "/" + id, Bearer: g.AccessToken}).Problem(t, 404, "not_found")
}

func TestTaskValidation(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	base := "/api/" + g.User.ID + "/tasks"
	id := h.createTask(g, "ok")["id"].(string)
	for _, tc := range []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"missing title", "POST", base, map[string]any{"description": "x"}, "title"},
		{"blank title", "POST", base, map[string]any{"title": "   "}, "title"},
		{"long title", "POST", base, map[string]any{"title": strings.Repeat("t", 201)}, "title"},
		{"long description", "POST", base, map[string]any{"title": "t", "description": strings.Repeat("d", 2001)}, "description"},
		{"put without completed", "PUT", base + "/" + id, map[string]any{"title": "t", "description": ""}, "completed"},
		{"put without title", "PUT", base + "/" + id, map[string]any{"completed": true}, "title"},
		{"patch blank title", "PATCH", base + "/" + id, map[string]any{"title": ""}, "title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := h.Do(req{Method: tc.method, Path: tc.path, Bearer: g.AccessToken, Body: tc.body}).Problem(t, 400, "validation_failed")
			if f := m["errors"].([]any)[0].(map[string]any)["field"]; f != tc.field {
				t.Errorf("field = %v, want %s", f, tc.field)
			}
		})
	}
	// Boundaries that pass: 200 characters of title (multi-byte), 2000 of description.
	r := h.Do(req{Method: "POST", Path: base, Bearer: g.AccessToken, Body: map[string]any{"title": strings.Repeat("ü", 200), "description": strings.Repeat("d", 2000)}})
	if r.Status != 201 {
		t.Fatalf("boundary create: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct{ name, method, path, body string }{
		{"completed on create", "POST", base, `{"title":"t","completed":true}`},
		{"wrong type", "PATCH", base + "/" + id, `{"completed":"yes"}`},
		{"unknown field", "PATCH", base + "/" + id, `{"done":true}`},
		{"malformed", "PUT", base + "/" + id, `{"title":"t",`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.Do(req{Method: tc.method, Path: tc.path, Bearer: g.AccessToken, Body: tc.body}).Problem(t, 400, "invalid_request")
		})
	}
	if got := h.Do(req{Method: "GET", Path: base + "/" + id, Bearer: g.AccessToken}).JSON(t); got["title"] != "ok" {
		t.Fatalf("a rejected update changed the task: %v", got)
	}
}

// TestPutReplacesWholeTask: PUT needs every field of the task. A body that
// lacks any of them is 400 validation_failed naming each missing field, and
// the task stays as it was (a PUT without description used to blank it).
func TestPutReplacesWholeTask(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	base := "/api/" + g.User.ID + "/tasks"
	r := h.Do(req{Method: "POST", Path: base, Bearer: g.AccessToken, Body: map[string]string{"title": "keep", "description": "kept"}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	path := base + "/" + r.JSON(t)["id"].(string)
	for _, tc := range []struct {
		name    string
		body    string
		missing []string
	}{
		{"no description", `{"title":"t","completed":true}`, []string{"description"}},
		{"no title", `{"description":"d","completed":true}`, []string{"title"}},
		{"no completed", `{"title":"t","description":"d"}`, []string{"completed"}},
		{"only title", `{"title":"t"}`, []string{"description", "completed"}},
		{"empty object", `{}`, []string{"title", "description", "completed"}},
		{"null", `null`, []string{"title", "description", "completed"}},
		{"null description", `{"title":"t","description":null,"completed":true}`, []string{"description"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := h.Do(req{Method: "PUT", Path: path, Bearer: g.AccessToken, Body: tc.body}).Problem(t, 400, "validation_failed")
			var got []string
			for _, e := range m["errors"].([]any) {
				e := e.(map[string]any)
				if e["message"] != "is required" {
					t.Errorf("%v: message %v", e["field"], e["message"])
				}
				got = append(got, e["field"].(string))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.missing) {
				t.Errorf("fields = %v, want %v", got, tc.missing)
			}
		})
	}
	got := h.Do(req{Method: "GET", Path: path, Bearer: g.AccessToken}).JSON(t)
	if got["title"] != "keep" || got["description"] != "kept" || got["completed"] != false {
		t.Fatalf("a refused PUT changed the task: %v", got)
	}
	// All three present, description empty: replaced.
	r = h.Do(req{Method: "PUT", Path: path, Bearer: g.AccessToken, Body: `{"title":"new","description":"","completed":true}`})
	if got := r.JSON(t); r.Status != 200 || got["title"] != "new" || got["description"] != "" || got["completed"] != true {
		t.Fatalf("full PUT: %d %v", r.Status, got)
	}
}

func TestTaskOwnership(t *testing.T) {
	h := newHarness(t, options{})
	ada := h.signUp("ada@example.com")
	bob := h.signUp("bob@example.com")
	adaTask := h.createTask(ada, "ada's")["id"].(string)
	// Bob at Ada's user_id: 403, whatever the route.
	adaBase := "/api/" + ada.User.ID + "/tasks"
	for _, r := range []req{
		{Method: "GET", Path: adaBase},
		{Method: "POST", Path: adaBase, Body: map[string]string{"title": "mine now"}},
		{Method: "GET", Path: adaBase + "/" + adaTask},
		{Method: "PUT", Path: adaBase + "/" + adaTask, Body: map[string]any{"title": "x", "description": "", "completed": true}},
		{Method: "PATCH", Path: adaBase + "/" + adaTask, Body: map[string]any{"title": "x"}},
		{Method: "PATCH", Path: adaBase + "/" + adaTask + "/complete"},
		{Method: "DELETE", Path: adaBase + "/" + adaTask},
	} {
		r.Bearer = bob.AccessToken
		h.Do(r).Problem(t, 403, "forbidden")
	}
	// Bob at his own user_id with Ada's task id: 404, as if it did not exist.
	bobBase := "/api/" + bob.User.ID + "/tasks/" + adaTask
	for _, r := range []req{
		{Method: "GET", Path: bobBase},
		{Method: "PUT", Path: bobBase, Body: map[string]any{"title": "x", "description": "", "completed": true}},
		{Method: "PATCH", Path: bobBase, Body: map[string]any{"title": "x"}},
		{Method: "PATCH", Path: bobBase + "/complete"},
		{Method: "DELETE", Path: bobBase},
	} {
		r.Bearer = bob.AccessToken
		h.Do(r).Problem(t, 404, "not_found")
	}
	if got := h.Do(req{Method: "GET", Path: adaBase + "/" + adaTask, Bearer: ada.AccessToken}).JSON(t); got["title"] != "ada's" || got["completed"] != false {
		t.Fatalf("ada's task changed: %v", got)
	}
	// Admins get no pass to another user's tasks either.
	if _, err := h.store.Writer().Exec(`UPDATE users SET role = 'admin' WHERE id = $1`, bob.User.ID); err != nil {
		t.Fatal(err)
	}
	admin := h.signIn("bob@example.com", testPassword)
	h.Do(req{Method: "GET", Path: adaBase, Bearer: admin.AccessToken}).Problem(t, 403, "forbidden")
	// No token at all: 401 before anything else.
	h.Do(req{Method: "GET", Path: adaBase}).Problem(t, 401, "missing_token")
}

func TestTaskList(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	base := "/api/" + g.User.ID + "/tasks"
	var ids []string
	for i := range 5 {
		ids = append(ids, h.createTask(g, fmt.Sprintf("task %d", i))["id"].(string))
	}
	h.Do(req{Method: "PATCH", Path: base + "/" + ids[1] + "/complete", Bearer: g.AccessToken})
	h.Do(req{Method: "PATCH", Path: base + "/" + ids[3] + "/complete", Bearer: g.AccessToken})

	list := func(query string) ([]string, any) {
		t.Helper()
		r := h.Do(req{Method: "GET", Path: base + query, Bearer: g.AccessToken})
		if r.Status != 200 {
			t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
		}
		m := r.JSON(t)
		var got []string
		for _, x := range m["tasks"].([]any) {
			got = append(got, x.(map[string]any)["id"].(string))
		}
		return got, m["next_cursor"]
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	all, next := list("")
	if strings.Join(all, ",") != strings.Join(want, ",") || next != nil {
		t.Fatalf("newest first: got %v (next %v), want %v", all, next, want)
	}
	// Pages of two follow the cursor to the end with no gap or repeat.
	var paged []string
	query := "?limit=2"
	for range 5 {
		page, next := list(query)
		paged = append(paged, page...)
		if next == nil {
			break
		}
		query = "?limit=2&cursor=" + next.(string)
	}
	if strings.Join(paged, ",") != strings.Join(want, ",") {
		t.Fatalf("paged = %v, want %v", paged, want)
	}
	if got, _ := list("?status=completed"); strings.Join(got, ",") != ids[3]+","+ids[1] {
		t.Errorf("completed = %v", got)
	}
	if got, _ := list("?status=pending"); strings.Join(got, ",") != ids[4]+","+ids[2]+","+ids[0] {
		t.Errorf("pending = %v", got)
	}
	if got, _ := list("?status=all&limit=200"); len(got) != 5 {
		t.Errorf("all = %v", got)
	}
	// Another user sees an empty list, as [] not null.
	other := h.signUp("bob@example.com")
	r := h.Do(req{Method: "GET", Path: "/api/" + other.User.ID + "/tasks", Bearer: other.AccessToken})
	if !strings.Contains(string(r.Body), `"tasks":[]`) {
		t.Errorf("empty list = %s", r.Body)
	}

	for _, q := range []string{"?limit=0", "?limit=201", "?limit=abc", "?limit=-1", "?status=done"} {
		h.Do(req{Method: "GET", Path: base + q, Bearer: g.AccessToken}).Problem(t, 400, "validation_failed")
	}
	for _, q := range []string{"?cursor=%%%", "?cursor=abc", "?cursor=" + strings.Repeat("A", 500)} {
		h.Do(req{Method: "GET", Path: base + q, Bearer: g.AccessToken}).Problem(t, 400, "invalid_request")
	}
}

func TestOperations(t *testing.T) {
	h := newHarness(t, options{})
	if r := h.Do(req{Method: "GET", Path: "/healthz"}); r.Status != 200 {
		t.Errorf("healthz: %d", r.Status)
	}
	if r := h.Do(req{Method: "GET", Path: "/readyz"}); r.Status != 200 {
		t.Errorf("readyz: %d", r.Status)
	}
	h.Do(req{Method: "GET", Path: "/api/x/tasks", Bearer: "garbage"}).Problem(t, 401, "invalid_token")
	m := h.Do(req{Method: "GET", Path: "/metrics"})
	for _, want := range []string{
		`latchkey_http_requests_total{route="GET /healthz",status="200"} 1`,
		`latchkey_http_request_duration_seconds_bucket{route="GET /readyz",status="200"`,
		`latchkey_token_rejections_total{reason="malformed"} 1`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(m.Body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Unknown routes and methods answer problem+json too.
	h.Do(req{Method: "GET", Path: "/nope"}).Problem(t, 404, "not_found")
	h.Do(req{Method: "DELETE", Path: "/api/auth/me"}).Problem(t, 404, "not_found")
	// Security headers on every response; the app page gets a strict CSP.
	r := h.Do(req{Method: "GET", Path: "/"})
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("web app: %d CSP %q", r.Status, r.Header.Get("Content-Security-Policy"))
	}
	for _, path := range []string{"/", "/healthz", "/nope"} {
		r := h.Do(req{Method: "GET", Path: path})
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "no-referrer" || r.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: security headers missing: %v", path, r.Header)
		}
	}
}

func TestReadyzStoreDown(t *testing.T) {
	h := newHarness(t, options{})
	h.store.Close()
	h.Do(req{Method: "GET", Path: "/readyz"}).Problem(t, 503, "unavailable")
}

// BenchmarkListTasks measures the protected read path end to end in one
// process: bearer verification, the revocation lookup, routing, the keyset
// query on a real SQLite file and JSON encoding of 20 tasks.
func BenchmarkListTasks(b *testing.B) {
	h := newHarness(b, options{})
	g := h.signUp("bench@example.com")
	for i := range 20 {
		h.createTask(g, fmt.Sprintf("task %d", i))
	}
	handler := h.App.Handler()
	path := "/api/" + g.User.ID + "/tasks"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodGet, testIssuer+path, nil)
			r.Header.Set("Authorization", "Bearer "+g.AccessToken)
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// TestTLS: over HTTPS the refresh cookie is Secure and HSTS is sent.
func TestTLS(t *testing.T) {
	h := newHarness(t, options{tls: true})
	r := h.Do(req{Method: "POST", Path: "/api/auth/signup", Body: map[string]string{"email": "ada@example.com", "password": testPassword}})
	h.Grant(r, 201)
	if c := cookieOf(t, r.Header, "__Host-latchkey_refresh"); !c.Secure || c.Path != "/" {
		t.Errorf("cookie over TLS is not Secure at Path=/: %+v", c)
	}
	if got := r.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q", got)
	}
	plain := newHarness(t, options{})
	if got := plain.Do(req{Method: "GET", Path: "/healthz"}).Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS over plain HTTP: %q", got)
	}
}
