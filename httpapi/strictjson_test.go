package httpapi_test

import (
	"context"
	"strings"
	"testing"
)

// strictCase is a body that the strict decoder must refuse with 400
// invalid_request, on the route it is sent to.
type strictCase struct{ name, method, path, body string }

// checkRefused sends each case and checks the answer: 400 invalid_request,
// and a detail that echoes none of the values sent (only a field name).
func checkRefused(t *testing.T, h *harness, bearer string, cases []strictCase, secrets ...string) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.Do(req{Method: tc.method, Path: tc.path, Bearer: bearer, Body: tc.body})
			r.Problem(t, 400, "invalid_request")
			for _, s := range secrets {
				if strings.Contains(string(r.Body), s) {
					t.Errorf("the answer echoes %q: %s", s, r.Body)
				}
			}
		})
	}
}

// TestJSONNamesMatchExactly: a member name matches a field only when it is
// spelt exactly as the contract spells it. Any other case is an unknown
// field, so `{"email":A,"EMAIL":B}` can no longer sign up B.
func TestJSONNamesMatchExactly(t *testing.T) {
	h := newHarness(t, options{})
	root := h.admin("root@example.com")
	ada := h.signUp("ada@example.com")
	task := h.createTask(ada, "keep")["id"].(string)
	tasks := "/api/" + ada.User.ID + "/tasks"
	const pw = `"password":"case-probe-password-1"`
	checkRefused(t, h, "", []strictCase{
		{"EMAIL", "POST", "/api/auth/signup", `{"EMAIL":"a@example.com",` + pw + `}`},
		{"Email", "POST", "/api/auth/signup", `{"Email":"a@example.com",` + pw + `}`},
		{"Password", "POST", "/api/auth/signup", `{"email":"a@example.com","Password":"case-probe-password-1"}`},
		{"email and EMAIL", "POST", "/api/auth/signup", `{"email":"a@example.com","EMAIL":"b@example.com",` + pw + `}`},
		{"long s, which simple folding equates with s", "POST", "/api/auth/signup", "{\"email\":\"a@example.com\",\"pa\u017f\u017fword\":\"case-probe-password-1\"}"},
		{"Kelvin sign, which simple folding equates with k", "POST", "/api/auth/refresh", "{\"refresh_to\u212aen\":\"" + ada.RefreshToken + "\"}"},
		{"sign-in Email", "POST", "/api/auth/signin", `{"Email":"ada@example.com","password":"` + testPassword + `"}`},
		{"refresh Refresh_Token", "POST", "/api/auth/refresh", `{"Refresh_Token":"` + ada.RefreshToken + `"}`},
	}, "a@example.com", "b@example.com", "case-probe-password-1", testPassword, ada.RefreshToken)
	checkRefused(t, h, ada.AccessToken, []strictCase{
		{"Title", "POST", tasks, `{"Title":"x"}`},
		{"TITLE on PATCH", "PATCH", tasks + "/" + task, `{"TITLE":"changed"}`},
		{"Completed on PUT", "PUT", tasks + "/" + task, `{"title":"t","description":"","Completed":true}`},
	})
	checkRefused(t, h, root.AccessToken, []strictCase{
		{"Role", "PATCH", "/api/admin/users/" + ada.User.ID, `{"Role":"admin"}`},
		{"role and ROLE", "PATCH", "/api/admin/users/" + ada.User.ID, `{"role":"user","ROLE":"admin"}`},
	})
	for _, email := range []string{"a@example.com", "b@example.com"} {
		if _, err := h.store.FindUserByEmail(context.Background(), email); err == nil {
			t.Errorf("%s was signed up by a body with a case variant of a field name", email)
		}
	}
	if got := h.Do(req{Method: "GET", Path: tasks + "/" + task, Bearer: ada.AccessToken}).JSON(t); got["title"] != "keep" || got["completed"] != false {
		t.Errorf("a refused body changed the task: %v", got)
	}
	if me := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: h.signIn("ada@example.com", testPassword).AccessToken}).JSON(t); me["user"].(map[string]any)["role"] != "user" {
		t.Errorf("a refused body changed the role: %v", me)
	}
}

// TestJSONDuplicateNames: an object naming a member twice is refused,
// whichever copy would have won.
func TestJSONDuplicateNames(t *testing.T) {
	h := newHarness(t, options{})
	root := h.admin("root@example.com")
	ada := h.signUp("ada@example.com")
	task := h.createTask(ada, "keep")["id"].(string)
	tasks := "/api/" + ada.User.ID + "/tasks"
	checkRefused(t, h, "", []strictCase{
		{"email twice", "POST", "/api/auth/signup", `{"email":"a@example.com","email":"b@example.com","password":"dup-probe-password-1"}`},
		{"password twice", "POST", "/api/auth/signup", `{"email":"a@example.com","password":"dup-probe-password-1","password":"dup-probe-password-2"}`},
		{"same value twice", "POST", "/api/auth/signup", `{"email":"a@example.com","email":"a@example.com","password":"dup-probe-password-1"}`},
		{"escaped spelling", "POST", "/api/auth/signup", `{"email":"a@example.com","\u0065mail":"b@example.com","password":"dup-probe-password-1"}`},
	}, "a@example.com", "b@example.com", "dup-probe-password")
	checkRefused(t, h, ada.AccessToken, []strictCase{
		{"title twice", "POST", tasks, `{"title":"a","title":"b"}`},
		{"completed twice", "PATCH", tasks + "/" + task, `{"completed":true,"completed":false}`},
		{"nested duplicate", "PATCH", tasks + "/" + task, `{"title":{"a":1,"a":2}}`},
	})
	checkRefused(t, h, root.AccessToken, []strictCase{
		{"role twice", "PATCH", "/api/admin/users/" + ada.User.ID, `{"role":"user","role":"admin"}`},
	})
	for _, email := range []string{"a@example.com", "b@example.com"} {
		if _, err := h.store.FindUserByEmail(context.Background(), email); err == nil {
			t.Errorf("%s was signed up by a body with a duplicate name", email)
		}
	}
	if got := h.Do(req{Method: "GET", Path: tasks + "/" + task, Bearer: ada.AccessToken}).JSON(t); got["title"] != "keep" || got["completed"] != false {
		t.Errorf("a refused body changed the task: %v", got)
	}
}

// TestJSONLoneSurrogates: a \u escape of half a surrogate pair names no
// character; it is refused as raw invalid UTF-8 is, never stored as U+FFFD.
// A whole escaped pair is one character and passes.
func TestJSONLoneSurrogates(t *testing.T) {
	h := newHarness(t, options{})
	ada := h.signUp("ada@example.com")
	task := h.createTask(ada, "keep")["id"].(string)
	tasks := "/api/" + ada.User.ID + "/tasks"
	signup := func(name string) string {
		return `{"email":"s@example.com","password":"surrogate-probe-1","name":"` + name + `"}`
	}
	checkRefused(t, h, "", []strictCase{
		{"high", "POST", "/api/auth/signup", signup(`\ud800`)},
		{"low", "POST", "/api/auth/signup", signup(`\udc00`)},
		{"high at the end", "POST", "/api/auth/signup", signup(`Ada\udbff`)},
		{"high then a letter", "POST", "/api/auth/signup", signup(`\ud83dx`)},
		{"high then an escaped letter", "POST", "/api/auth/signup", signup(`\ud83d\u0041`)},
		{"two highs", "POST", "/api/auth/signup", signup(`\ud83d\ud83d`)},
		{"pair reversed", "POST", "/api/auth/signup", signup(`\ude00\ud83d`)},
		{"in a name", "POST", "/api/auth/signup", `{"email":"s@example.com","password":"surrogate-probe-1","\ud800":"x"}`},
	}, "surrogate-probe-1", "s@example.com")
	checkRefused(t, h, ada.AccessToken, []strictCase{
		{"task title", "POST", tasks, `{"title":"a\udfffb"}`},
		{"task description", "PATCH", tasks + "/" + task, `{"description":"\ud800"}`},
	})
	if _, err := h.store.FindUserByEmail(context.Background(), "s@example.com"); err == nil {
		t.Error("a body with a lone surrogate signed up")
	}
	// An escaped pair is U+1F600, stored as itself.
	g := h.Grant(h.Do(req{Method: "POST", Path: "/api/auth/signup", Body: signup(`Ada \ud83d\ude00`)}), 201)
	if g.User.Name != "Ada \U0001F600" {
		t.Errorf("name = %q, want the escaped pair decoded", g.User.Name)
	}
	r := h.Do(req{Method: "PATCH", Path: tasks + "/" + task, Bearer: ada.AccessToken, Body: `{"title":"\uD83D\uDE00 upper-case escapes"}`})
	if got := r.JSON(t); r.Status != 200 || got["title"] != "\U0001F600 upper-case escapes" {
		t.Errorf("escaped pair in a title: %d %v", r.Status, got)
	}
}
