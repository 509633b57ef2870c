package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"mime"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	vw "github.com/descope/virtualwebauthn"
	"github.com/pquerna/otp/totp"
	"go.yaml.in/yaml/v3"

	"github.com/latchkey/latchkey/internal/testkit"
	"github.com/latchkey/latchkey/mail"
)

// nonAPIRoutes are the registrations in routes.go that the OpenAPI
// description leaves out on purpose: the web app's page and files, and the
// catch-all that answers every other request with a problem+json 404.
var nonAPIRoutes = map[string]bool{
	"GET /{$}":     true,
	"GET /assets/": true,
	"/":            true,
}

// httpMethods are the OpenAPI path item fields that are operations.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// loadSpec parses openapi.yaml (the file embedded in the binary) into
// plain maps and slices, as JSON would.
func loadSpec(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	return spec
}

// registeredRoutes reads the patterns passed to mux.Handle and
// mux.HandleFunc in routes.go, so the server's routes are listed once.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "routes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "mux" {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Errorf("%s: a route pattern that is not a string literal; this test cannot check it", fset.Position(call.Pos()))
			return true
		}
		p, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, p)
		return true
	})
	if len(routes) < 10 {
		t.Fatalf("found only %d routes in routes.go: %q", len(routes), routes)
	}
	return routes
}

// specOperation turns a ServeMux pattern into the spec's "METHOD /path":
// {name} wildcards are OpenAPI's path parameters, {name...} is taken as
// {name}, and a trailing {$} (exact match) is dropped.
func specOperation(pattern string) (string, error) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return "", fmt.Errorf("pattern %q has no method; it would answer every method", pattern)
	}
	path = strings.TrimSuffix(path, "{$}")
	if strings.HasSuffix(path, "/") && path != "/" {
		return "", fmt.Errorf("pattern %q matches a whole subtree, which OpenAPI cannot describe", pattern)
	}
	path = strings.ReplaceAll(path, "...}", "}")
	return method + " " + path, nil
}

// TestOpenAPICoversRoutes fails when a route is registered but not
// described, or described but not registered.
func TestOpenAPICoversRoutes(t *testing.T) {
	registered := registeredRoutes(t)
	server := map[string]bool{}
	for _, p := range registered {
		if nonAPIRoutes[p] {
			continue
		}
		op, err := specOperation(p)
		if err != nil {
			t.Error(err)
			continue
		}
		if server[op] {
			t.Errorf("route %q registered twice", op)
		}
		server[op] = true
	}
	described := specOperations(loadSpec(t))
	for op := range server {
		if !described[op] {
			t.Errorf("%s is served but not in openapi.yaml", op)
		}
	}
	for op := range described {
		if !server[op] {
			t.Errorf("%s is in openapi.yaml but not registered in routes.go", op)
		}
	}
	for p := range nonAPIRoutes {
		if !slices.Contains(registered, p) {
			t.Errorf("ignored route %q is no longer registered; drop it from nonAPIRoutes", p)
		}
	}
}

// TestOpenAPIDocument checks that openapi.yaml is a JSON-compatible OpenAPI
// 3.1 document whose $refs all resolve, whose path parameters are all
// declared, and whose operations all answer something.
func TestOpenAPIDocument(t *testing.T) {
	spec := loadSpec(t)
	if v, _ := spec["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", spec["openapi"])
	}
	info, _ := spec["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info needs title and version: %v", info)
	}
	schemes, _ := dig(spec, "#/components/securitySchemes")
	if bearer, _ := dig(spec, "#/components/securitySchemes/bearerAuth"); bearer == nil {
		t.Errorf("no bearerAuth security scheme: %v", schemes)
	}
	if c, _ := dig(spec, "#/components/securitySchemes/refreshCookie/name"); c != "latchkey_refresh" {
		t.Errorf("refreshCookie names cookie %v, want latchkey_refresh", c)
	}

	// Every mapping has string keys (so the document is JSON), and every
	// $ref is local and resolves.
	refs, examples := 0, 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				refs++
				s, _ := ref.(string)
				if _, err := dig(spec, s); err != nil {
					t.Errorf("%s: $ref %v: %v", at, ref, err)
				}
			}
			if ex, ok := v["examples"].(map[string]any); ok && v["schema"] != nil {
				for name, e := range ex {
					examples++
					value := roundTrip(t, resolve(t, spec, e)["value"])
					if err := validate(spec, v["schema"], value, "example "+name); err != nil {
						t.Errorf("%s: %v", at, err)
					}
				}
			}
			for k, x := range v {
				walk(at+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(at+"/"+strconv.Itoa(i), x)
			}
		case map[any]any:
			t.Errorf("%s: a mapping with non-string keys (quote status codes)", at)
		}
	}
	walk("#", spec)
	if refs < 50 {
		t.Errorf("only %d $refs found; is the walk broken?", refs)
	}
	if examples == 0 {
		t.Error("no example checked; is the walk broken?")
	}

	// Every operation has responses, security, and every {name} in its
	// path is a declared path parameter.
	wildcard := regexp.MustCompile(`\{([^}]+)\}`)
	for _, o := range specOps(spec) {
		op, item, where := o.op, o.item, o.where
		if r, _ := op["responses"].(map[string]any); len(r) == 0 {
			t.Errorf("%s: no responses", where)
		}
		if _, ok := op["security"]; !ok {
			t.Errorf("%s: no security requirement (use [] for a public route)", where)
		}
		declared := map[string]bool{}
		params, _ := item["parameters"].([]any)
		more, _ := op["parameters"].([]any)
		for _, p := range append(slices.Clone(params), more...) {
			pm := resolve(t, spec, p)
			if pm["in"] == "path" {
				if pm["required"] != true {
					t.Errorf("%s: path parameter %v is not required", where, pm["name"])
				}
				declared[pm["name"].(string)] = true
			}
		}
		for _, w := range wildcard.FindAllStringSubmatch(o.path, -1) {
			if !declared[w[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", where, w[1])
			}
			delete(declared, w[1])
		}
		for name := range declared {
			t.Errorf("%s: declares path parameter %s that the path lacks", where, name)
		}
	}
}

// TestOpenAPIServed: GET /openapi.yaml answers the file as YAML.
func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t, options{})
	want, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := h.Do(req{Method: "GET", Path: "/openapi.yaml"})
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("Content-Type = %q, want application/yaml", ct)
	}
	if !bytes.Equal(r.Body, want) {
		t.Error("served document differs from openapi.yaml")
	}
	if r := h.Do(req{Method: "POST", Path: "/openapi.yaml"}); r.Status != http.StatusNotFound {
		t.Errorf("POST /openapi.yaml: status %d, want 404", r.Status)
	}
}

// TestOpenAPIResponsesConform makes real calls to every route and checks
// each answer against the spec: its status is documented for the route,
// its required headers are there, and its body has the documented media
// type and matches the schema (types, required fields, no undocumented
// fields, enums, date-times).
func TestOpenAPIResponsesConform(t *testing.T) {
	spec := loadSpec(t)
	h := newHarness(t, options{})
	seen := map[string]bool{}
	check := func(r req, wantStatus int) response {
		t.Helper()
		resp := h.Do(r)
		if resp.Status != wantStatus {
			t.Fatalf("%s %s: status %d, want %d: %s", r.Method, r.Path, resp.Status, wantStatus, resp.Body)
		}
		seen[conform(t, spec, r.Method, r.Path, resp)] = true
		return resp
	}

	ada := check(req{Method: "POST", Path: "/api/auth/signup", Body: map[string]string{"email": "ada@example.com", "password": testPassword, "name": "Ada"}}, 201)
	g := h.Grant(ada, 201)
	tok, uid := g.AccessToken, g.User.ID
	check(req{Method: "POST", Path: "/api/auth/signup", Body: map[string]string{"email": "ADA@example.com", "password": testPassword}}, 409)
	check(req{Method: "POST", Path: "/api/auth/signup", Body: map[string]string{"email": "nope", "password": "short"}}, 400)
	check(req{Method: "POST", Path: "/api/auth/signup", Body: `{"email": 1}`}, 400)
	check(req{Method: "POST", Path: "/api/auth/signup", Body: strings.Repeat(" ", 1<<20+1)}, 413)
	check(req{Method: "POST", Path: "/api/auth/signup", Header: map[string]string{"Origin": "https://evil.example"},
		Body: map[string]string{"email": "eve@example.com", "password": testPassword}}, 403)
	check(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "ada@example.com", "password": "wrong password"}}, 401)
	second := h.Grant(check(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "ada@example.com", "password": testPassword}}, 200), 200)

	check(req{Method: "GET", Path: "/api/auth/me", Bearer: tok}, 200)
	check(req{Method: "GET", Path: "/api/auth/me"}, 401)
	check(req{Method: "GET", Path: "/api/auth/me", Bearer: "not.a.token"}, 401)
	check(req{Method: "GET", Path: "/api/auth/sessions", Bearer: tok}, 200)

	tasks := "/api/" + uid + "/tasks"
	created := check(req{Method: "POST", Path: tasks, Bearer: tok, Body: map[string]string{"title": "Buy milk"}}, 201)
	task := created.JSON(t)["id"].(string)
	check(req{Method: "POST", Path: tasks, Bearer: tok, Body: map[string]string{"title": "Second", "description": "more"}}, 201)
	check(req{Method: "POST", Path: tasks, Bearer: tok, Body: map[string]string{"title": "  "}}, 400)
	check(req{Method: "GET", Path: tasks + "?status=pending&limit=1", Bearer: tok}, 200)
	check(req{Method: "GET", Path: tasks, Bearer: tok}, 200)
	check(req{Method: "GET", Path: tasks + "?limit=0", Bearer: tok}, 400)
	check(req{Method: "GET", Path: tasks + "?cursor=bogus", Bearer: tok}, 400)
	check(req{Method: "GET", Path: "/api/someone-else/tasks", Bearer: tok}, 403)
	check(req{Method: "GET", Path: tasks + "/" + task, Bearer: tok}, 200)
	check(req{Method: "GET", Path: tasks + "/no-such-task", Bearer: tok}, 404)
	check(req{Method: "PUT", Path: tasks + "/" + task, Bearer: tok, Body: map[string]any{"title": "Buy oat milk", "description": "", "completed": false}}, 200)
	check(req{Method: "PUT", Path: tasks + "/" + task, Bearer: tok, Body: map[string]any{"title": "x"}}, 400)
	check(req{Method: "PATCH", Path: tasks + "/" + task, Bearer: tok, Body: map[string]any{"completed": true}}, 200)
	check(req{Method: "PATCH", Path: tasks + "/" + task + "/complete", Bearer: tok}, 200)
	check(req{Method: "DELETE", Path: tasks + "/" + task, Bearer: tok}, 204)
	check(req{Method: "DELETE", Path: tasks + "/" + task, Bearer: tok}, 404)

	check(req{Method: "POST", Path: "/api/auth/refresh", Body: map[string]string{"refresh_token": second.RefreshToken}}, 200)
	check(req{Method: "POST", Path: "/api/auth/refresh"}, 400)
	check(req{Method: "POST", Path: "/api/auth/signout"}, 401)
	check(req{Method: "POST", Path: "/api/auth/refresh", Body: map[string]string{"refresh_token": second.RefreshToken}}, 401)
	check(req{Method: "POST", Path: "/api/auth/refresh", Body: `{"refresh_token": "x", "extra": 1}`}, 400)

	check(req{Method: "GET", Path: "/api/admin/users", Bearer: tok}, 403)
	root := h.admin("root@example.com")
	check(req{Method: "GET", Path: "/api/admin/users?limit=1", Bearer: root.AccessToken}, 200)
	check(req{Method: "GET", Path: "/api/admin/users?limit=500", Bearer: root.AccessToken}, 400)
	check(req{Method: "PATCH", Path: "/api/admin/users/" + uid, Bearer: root.AccessToken, Body: map[string]any{"role": "user", "disabled": false}}, 200)
	check(req{Method: "PATCH", Path: "/api/admin/users/" + uid, Bearer: root.AccessToken, Body: map[string]any{"role": "owner"}}, 400)
	check(req{Method: "PATCH", Path: "/api/admin/users/no-such-user", Bearer: root.AccessToken, Body: map[string]any{"disabled": true}}, 404)
	check(req{Method: "GET", Path: "/api/admin/audit?limit=5", Bearer: root.AccessToken}, 200)
	check(req{Method: "POST", Path: "/api/admin/receivers", Bearer: root.AccessToken, Body: map[string]string{"name": "notes-api", "audience": "https://notes.example"}}, 201)
	check(req{Method: "POST", Path: "/api/admin/receivers", Bearer: root.AccessToken, Body: map[string]string{"name": "notes-api", "audience": "https://other.example"}}, 409)
	check(req{Method: "POST", Path: "/api/admin/receivers", Bearer: root.AccessToken, Body: map[string]string{"name": " ", "audience": ""}}, 400)
	check(req{Method: "POST", Path: "/api/admin/receivers", Bearer: tok, Body: map[string]string{"name": "x", "audience": "y"}}, 403)
	check(req{Method: "GET", Path: "/api/admin/receivers", Bearer: root.AccessToken}, 200)
	check(req{Method: "DELETE", Path: "/api/admin/receivers/notes-api", Bearer: root.AccessToken}, 204)
	check(req{Method: "DELETE", Path: "/api/admin/receivers/notes-api", Bearer: root.AccessToken}, 404)
	check(req{Method: "GET", Path: "/api/admin/audit?type=signup&user_id=" + uid, Bearer: root.AccessToken}, 200)

	check(req{Method: "POST", Path: "/api/auth/password", Bearer: tok, Body: map[string]string{"current_password": "wrong password", "new_password": "another long passphrase"}}, 400)
	check(req{Method: "POST", Path: "/api/auth/password", Bearer: tok, Body: map[string]string{"current_password": testPassword, "new_password": "another long passphrase"}}, 204)
	third := h.signIn("ada@example.com", "another long passphrase")
	check(req{Method: "DELETE", Path: "/api/auth/sessions/" + third.SessionID, Bearer: tok}, 204)
	check(req{Method: "DELETE", Path: "/api/auth/sessions/no-such-session", Bearer: tok}, 404)
	check(req{Method: "POST", Path: "/api/auth/signout", Bearer: tok, Body: map[string]string{"scope": "nowhere"}}, 400)
	check(req{Method: "POST", Path: "/api/auth/signout", Bearer: tok}, 204)
	check(req{Method: "POST", Path: "/api/auth/signout", Bearer: tok}, 401)
	fourth := h.signIn("ada@example.com", "another long passphrase")
	check(req{Method: "POST", Path: "/api/auth/signout", Cookie: &http.Cookie{Name: "latchkey_refresh", Value: fourth.RefreshToken}}, 403)
	check(req{Method: "POST", Path: "/api/auth/signout", Body: map[string]string{"refresh_token": fourth.RefreshToken, "scope": "global"}}, 204)

	// Account recovery and email, for a user of its own.
	cy := h.signUp("cy@example.com")
	vtok, vcode := testkit.MailSecrets(t, h.WaitMail(t, "cy@example.com", mail.SubjectVerify, 1).Text)
	check(req{Method: "POST", Path: "/api/auth/email/verify", Body: map[string]string{"email": "cy@example.com", "code": vcode, "token": vtok}}, 400)
	check(req{Method: "POST", Path: "/api/auth/email/verify", Body: map[string]string{"token": "AAAA"}}, 400)
	check(req{Method: "POST", Path: "/api/auth/email/verify", Bearer: "not.a.token", Body: map[string]string{"token": vtok}}, 401)
	check(req{Method: "POST", Path: "/api/auth/email/verify/resend", Bearer: cy.AccessToken}, 202)
	check(req{Method: "POST", Path: "/api/auth/email/verify", Bearer: cy.AccessToken, Body: map[string]string{"token": vtok}}, 200)
	check(req{Method: "POST", Path: "/api/auth/email/change", Bearer: cy.AccessToken, Body: map[string]string{"new_email": "cy2@example.com", "current_password": "wrong password"}}, 400)
	check(req{Method: "POST", Path: "/api/auth/email/change", Bearer: cy.AccessToken, Body: map[string]string{"new_email": "cy2@example.com", "current_password": testPassword}}, 202)
	_, ccode := testkit.MailSecrets(t, h.WaitMail(t, "cy2@example.com", mail.SubjectEmailChange, 1).Text)
	h.signUp("cy2@example.com") // taken meanwhile
	check(req{Method: "POST", Path: "/api/auth/email/change/confirm", Bearer: cy.AccessToken, Body: map[string]string{"code": ccode}}, 409)
	check(req{Method: "POST", Path: "/api/auth/email/change/confirm", Bearer: cy.AccessToken, Body: map[string]string{"code": "000000x"}}, 400)
	check(req{Method: "POST", Path: "/api/auth/password/forgot", Body: map[string]string{"email": "cy@example.com"}}, 202)
	check(req{Method: "POST", Path: "/api/auth/password/forgot", Body: map[string]string{}}, 400)
	rtok, _ := testkit.MailSecrets(t, h.WaitMail(t, "cy@example.com", mail.SubjectReset, 1).Text)
	check(req{Method: "POST", Path: "/api/auth/password/reset", Body: map[string]string{"token": rtok, "new_password": "short"}}, 400)
	check(req{Method: "POST", Path: "/api/auth/password/reset", Body: map[string]string{"token": rtok, "new_password": "a brand new passphrase"}}, 204)
	check(req{Method: "POST", Path: "/api/auth/password/reset", Body: map[string]string{"token": rtok, "new_password": "a brand new passphrase"}}, 400)
	check(req{Method: "POST", Path: "/api/auth/email/change/confirm", Bearer: cy.AccessToken, Body: map[string]string{"code": ccode}}, 401)

	// The second factor, for a user of its own: codes of distinct 30 s steps.
	dee := h.signUp("dee@example.com")
	deeID := dee.User.ID
	bearer := dee.AccessToken
	check(req{Method: "GET", Path: "/api/auth/mfa", Bearer: bearer}, 200)
	check(req{Method: "POST", Path: "/api/auth/mfa/totp", Bearer: bearer, Body: map[string]string{"current_password": "wrong password"}}, 400)
	enr := check(req{Method: "POST", Path: "/api/auth/mfa/totp", Bearer: bearer, Body: map[string]string{"current_password": testPassword}}, 200).JSON(t)
	factor, secret := enr["factor_id"].(string), enr["secret"].(string)
	h.Secrets = append(h.Secrets, secret)
	code := func() string {
		h.clock.Advance(30 * time.Second)
		c, err := totp.GenerateCode(secret, h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	check(req{Method: "POST", Path: "/api/auth/mfa/totp/no-such-factor/confirm", Bearer: bearer, Body: map[string]string{"code": code()}}, 404)
	check(req{Method: "POST", Path: "/api/auth/mfa/totp/" + factor + "/confirm", Bearer: bearer, Body: map[string]string{"code": "000000"}}, 400)
	var confirmed struct {
		AccessToken   string   `json:"access_token"`
		RecoveryCodes []string `json:"recovery_codes"`
	}
	check(req{Method: "POST", Path: "/api/auth/mfa/totp/" + factor + "/confirm", Bearer: bearer, Body: map[string]string{"code": code()}}, 200).Decode(t, &confirmed)
	h.Secrets = append(h.Secrets, confirmed.AccessToken)
	h.Secrets = append(h.Secrets, confirmed.RecoveryCodes...)
	check(req{Method: "GET", Path: "/api/auth/mfa", Bearer: bearer}, 401) // revoked by the confirmation
	bearer = confirmed.AccessToken
	check(req{Method: "GET", Path: "/api/auth/mfa", Bearer: bearer}, 200)
	check(req{Method: "POST", Path: "/api/auth/mfa/recovery-codes", Bearer: bearer, Body: map[string]string{"current_password": testPassword, "code": "000000"}}, 400)
	var regenerated struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	check(req{Method: "POST", Path: "/api/auth/mfa/recovery-codes", Bearer: bearer, Body: map[string]string{"current_password": testPassword, "code": code()}}, 200).Decode(t, &regenerated)
	h.Secrets = append(h.Secrets, regenerated.RecoveryCodes...)
	mfaTok := check(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "dee@example.com", "password": testPassword}}, 401).JSON(t)["mfa_token"].(string)
	h.Secrets = append(h.Secrets, mfaTok)
	check(req{Method: "POST", Path: "/api/auth/signin/mfa", Body: map[string]string{"mfa_token": mfaTok}}, 400)
	check(req{Method: "POST", Path: "/api/auth/signin/mfa", Body: map[string]string{"mfa_token": mfaTok, "code": "000000"}}, 401)
	h.Grant(check(req{Method: "POST", Path: "/api/auth/signin/mfa", Body: map[string]string{"mfa_token": mfaTok, "code": code()}}, 200), 200)
	check(req{Method: "POST", Path: "/api/auth/signin/mfa", Body: map[string]string{"mfa_token": mfaTok, "recovery_code": regenerated.RecoveryCodes[0]}}, 401)
	check(req{Method: "DELETE", Path: "/api/auth/mfa/totp/" + factor, Bearer: bearer, Body: map[string]string{"current_password": testPassword, "code": "000000"}}, 400)
	check(req{Method: "DELETE", Path: "/api/auth/mfa/totp/no-such-factor", Bearer: bearer, Body: map[string]string{"current_password": testPassword, "code": code()}}, 404)
	check(req{Method: "DELETE", Path: "/api/auth/mfa/totp/" + factor, Bearer: bearer, Body: map[string]string{"current_password": testPassword, "code": regenerated.RecoveryCodes[1]}}, 204)
	check(req{Method: "POST", Path: "/api/admin/users/" + deeID + "/mfa/reset", Bearer: bearer}, 403)
	check(req{Method: "POST", Path: "/api/admin/users/no-such-user/mfa/reset", Bearer: root.AccessToken}, 404)
	check(req{Method: "POST", Path: "/api/admin/users/" + deeID + "/mfa/reset", Bearer: root.AccessToken}, 204)

	// Passkeys, for a user of its own, with a virtual authenticator.
	fay := h.signUp("fay@example.com")
	pk := testkit.NewPasskey(fay.User.ID, vw.AuthenticatorOptions{})
	check(req{Method: "POST", Path: "/api/auth/passkeys/register/options", Bearer: fay.AccessToken}, 400)
	var reg ceremony
	check(req{Method: "POST", Path: "/api/auth/passkeys/register/options", Bearer: fay.AccessToken, Body: map[string]string{"current_password": testPassword}}, 200).Decode(t, &reg)
	check(req{Method: "POST", Path: "/api/auth/passkeys/register", Bearer: fay.AccessToken, Body: map[string]any{"challenge_id": "dead", "credential": pk.Attest(t, reg.Options)}}, 400)
	var added struct {
		Passkey struct {
			ID string `json:"id"`
		} `json:"passkey"`
	}
	check(req{Method: "POST", Path: "/api/auth/passkeys/register", Bearer: fay.AccessToken, Body: map[string]any{"challenge_id": reg.ChallengeID, "credential": pk.Attest(t, reg.Options), "name": "Phone"}}, 201).Decode(t, &added)
	check(req{Method: "GET", Path: "/api/auth/passkeys", Bearer: fay.AccessToken}, 200)
	check(req{Method: "PATCH", Path: "/api/auth/passkeys/" + added.Passkey.ID, Bearer: fay.AccessToken, Body: map[string]string{"name": "My phone"}}, 200)
	check(req{Method: "PATCH", Path: "/api/auth/passkeys/no-such-passkey", Bearer: fay.AccessToken, Body: map[string]string{"name": "x"}}, 404)
	var in ceremony
	check(req{Method: "POST", Path: "/api/auth/passkeys/signin/options"}, 200).Decode(t, &in)
	check(req{Method: "POST", Path: "/api/auth/passkeys/signin", Body: map[string]any{"challenge_id": in.ChallengeID, "credential": testkit.NewPasskey(fay.User.ID, vw.AuthenticatorOptions{}).Assert(t, in.Options, 1)}}, 401)
	check(req{Method: "POST", Path: "/api/auth/passkeys/signin/options", Body: map[string]any{}}, 200).Decode(t, &in)
	pg := h.Grant(check(req{Method: "POST", Path: "/api/auth/passkeys/signin", Body: map[string]any{"challenge_id": in.ChallengeID, "credential": pk.Assert(t, in.Options, 1)}}, 200), 200)
	check(req{Method: "POST", Path: "/api/auth/passkeys/signin", Body: map[string]any{"challenge_id": in.ChallengeID, "credential": pk.Assert(t, in.Options, 2)}}, 400)
	check(req{Method: "DELETE", Path: "/api/auth/passkeys/no-such-passkey", Bearer: pg.AccessToken}, 404)
	check(req{Method: "DELETE", Path: "/api/auth/passkeys/" + added.Passkey.ID, Bearer: fay.AccessToken, Body: map[string]string{"current_password": "wrong password"}}, 400)
	check(req{Method: "DELETE", Path: "/api/auth/passkeys/" + added.Passkey.ID, Bearer: pg.AccessToken}, 204)

	// The revocation feed, for a receiver of its own.
	check(req{Method: "GET", Path: "/.well-known/ssf-configuration"}, 200)
	rsecret := h.addReceiver(root, "conform", "https://conform.example")
	check(req{Method: "POST", Path: "/ssf/streams"}, 401)
	check(req{Method: "POST", Path: "/ssf/streams", Bearer: rsecret, Body: map[string]any{"delivery": map[string]string{"method": "urn:ietf:rfc:8935"}}}, 400)
	sid := check(req{Method: "POST", Path: "/ssf/streams", Bearer: rsecret, Body: map[string]any{"description": "conform"}}, 201).JSON(t)["stream_id"].(string)
	check(req{Method: "GET", Path: "/ssf/streams", Bearer: rsecret}, 200)
	check(req{Method: "GET", Path: "/ssf/streams?stream_id=" + sid, Bearer: rsecret}, 200)
	check(req{Method: "GET", Path: "/ssf/streams?stream_id=nope", Bearer: rsecret}, 404)
	check(req{Method: "POST", Path: "/ssf/poll/" + sid, Bearer: rsecret, Body: map[string]any{"returnImmediately": true}}, 200)
	check(req{Method: "POST", Path: "/ssf/poll/" + sid, Bearer: rsecret, Body: map[string]any{"maxEvents": -1}}, 400)
	check(req{Method: "POST", Path: "/ssf/poll/nope", Bearer: rsecret, Body: map[string]any{}}, 404)
	check(req{Method: "PATCH", Path: "/ssf/streams", Bearer: rsecret, Body: map[string]any{"stream_id": sid, "description": "patched"}}, 200)
	check(req{Method: "PATCH", Path: "/ssf/streams", Bearer: rsecret, Body: map[string]any{"stream_id": sid, "aud": "wrong"}}, 400)
	check(req{Method: "PUT", Path: "/ssf/streams", Bearer: rsecret, Body: map[string]any{"stream_id": sid}}, 200)
	check(req{Method: "PUT", Path: "/ssf/streams", Bearer: rsecret, Body: map[string]any{"stream_id": "nope"}}, 404)
	check(req{Method: "GET", Path: "/ssf/streams/status?stream_id=" + sid, Bearer: rsecret}, 200)
	check(req{Method: "GET", Path: "/ssf/streams/status", Bearer: rsecret}, 400)
	check(req{Method: "POST", Path: "/ssf/streams/status", Bearer: rsecret, Body: map[string]string{"stream_id": sid, "status": "paused", "reason": "conform"}}, 200)
	check(req{Method: "POST", Path: "/ssf/streams/status", Bearer: rsecret, Body: map[string]string{"stream_id": sid, "status": "nope"}}, 400)
	check(req{Method: "POST", Path: "/ssf/verify", Bearer: rsecret, Body: map[string]string{"stream_id": sid, "state": "s"}}, 204)
	check(req{Method: "POST", Path: "/ssf/verify", Bearer: rsecret, Body: map[string]string{"stream_id": sid}}, 429)
	check(req{Method: "POST", Path: "/ssf/verify", Bearer: rsecret, Body: map[string]string{"stream_id": "nope"}}, 404)
	check(req{Method: "DELETE", Path: "/ssf/streams", Bearer: rsecret}, 400)
	check(req{Method: "DELETE", Path: "/ssf/streams?stream_id=" + sid, Bearer: rsecret}, 204)

	for _, p := range []string{"/.well-known/jwks.json", "/api/auth/jwks", "/healthz", "/readyz", "/metrics", "/openapi.yaml"} {
		check(req{Method: "GET", Path: p}, 200)
	}
	// Another server's name in Host, as after DNS rebinding.
	check(req{Method: "GET", Path: "/api/auth/me", Bearer: tok, Host: "attacker.example"}, 421)
	check(req{Method: "POST", Path: "/api/auth/signin", Host: "attacker.example", Body: map[string]string{"email": "ada@example.com", "password": testPassword}}, 421)

	// The per-account throttle: the 11th attempt within 15 minutes is 429.
	wrong := map[string]string{"email": "bob@example.com", "password": "wrong password"}
	for range 10 {
		check(req{Method: "POST", Path: "/api/auth/signin", Body: wrong}, 401)
	}
	check(req{Method: "POST", Path: "/api/auth/signin", Body: wrong}, 429)

	// The per-IP limit: 429 with Retry-After.
	lim := newHarness(t, options{rate: 1})
	body := map[string]string{"email": "ada@example.com", "password": "wrong password"}
	lim.Do(req{Method: "POST", Path: "/api/auth/signin", Body: body})
	r := req{Method: "POST", Path: "/api/auth/signin", Body: body}
	resp := lim.Do(r)
	if resp.Status != http.StatusTooManyRequests {
		t.Fatalf("second sign-in at rate 1: status %d, want 429", resp.Status)
	}
	seen[conform(t, spec, r.Method, r.Path, resp)] = true

	// A store that does not answer: readyz is 503 with Retry-After.
	lim.store.Close()
	r = req{Method: "GET", Path: "/readyz"}
	if resp = lim.Do(r); resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the store closed: status %d, want 503", resp.Status)
	}
	seen[conform(t, spec, r.Method, r.Path, resp)] = true

	// Every route was called at least once.
	for op := range specOperations(spec) {
		if !seen[op] {
			t.Errorf("%s: never exercised", op)
		}
	}
}

// conform checks resp against the spec's operation for method and a
// concrete path, and returns the operation's "METHOD /template".
func conform(t *testing.T, spec map[string]any, method, path string, resp response) string {
	t.Helper()
	path, _, _ = strings.Cut(path, "?")
	tmpl := matchPath(spec, path)
	where := fmt.Sprintf("%s %s (%s) %d", method, path, tmpl, resp.Status)
	op, _ := dig(spec, "#/paths/"+escapePointer(tmpl)+"/"+strings.ToLower(method))
	if op == nil {
		t.Errorf("%s: not in the spec", where)
		return ""
	}
	responses := op.(map[string]any)["responses"].(map[string]any)
	ro, ok := responses[strconv.Itoa(resp.Status)]
	if !ok {
		if ro, ok = responses["default"]; !ok {
			t.Errorf("%s: status not documented; body %s", where, resp.Body)
			return strings.ToUpper(method) + " " + tmpl
		}
	}
	rs := resolve(t, spec, ro)
	headers, _ := rs["headers"].(map[string]any)
	for name, hv := range headers {
		hs := resolve(t, spec, hv)
		v := resp.Header.Get(name)
		if hs["required"] == true && v == "" {
			t.Errorf("%s: required header %s missing", where, name)
		}
		if sch, _ := hs["schema"].(map[string]any); v != "" && sch["type"] == "integer" {
			if _, err := strconv.Atoi(v); err != nil {
				t.Errorf("%s: header %s = %q, want an integer", where, name, v)
			}
		}
	}
	content, _ := rs["content"].(map[string]any)
	if len(resp.Body) == 0 {
		if len(content) > 0 {
			t.Errorf("%s: empty body, want one of %v", where, keys(content))
		}
		return strings.ToUpper(method) + " " + tmpl
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		t.Errorf("%s: Content-Type %q: %v", where, resp.Header.Get("Content-Type"), err)
		return strings.ToUpper(method) + " " + tmpl
	}
	media, ok := content[mt].(map[string]any)
	if !ok {
		t.Errorf("%s: Content-Type %s not documented (want one of %v)", where, mt, keys(content))
		return strings.ToUpper(method) + " " + tmpl
	}
	if strings.HasSuffix(mt, "json") {
		var body any
		if err := json.Unmarshal(resp.Body, &body); err != nil {
			t.Errorf("%s: body is not JSON: %v", where, err)
		} else if err := validate(spec, media["schema"], body, "body"); err != nil {
			t.Errorf("%s: %v; body %s", where, err, resp.Body)
		} else if m, ok := body.(map[string]any); ok && mt == "application/problem+json" && m["status"] != float64(resp.Status) {
			t.Errorf("%s: problem status %v differs from the HTTP status", where, m["status"])
		}
	}
	return strings.ToUpper(method) + " " + tmpl
}

// matchPath finds the spec path template that path matches, preferring
// the one with the fewest parameters.
func matchPath(spec map[string]any, path string) string {
	best, bestParams := "", -1
	for tmpl := range spec["paths"].(map[string]any) {
		n := strings.Count(tmpl, "{")
		re := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$"
		if regexp.MustCompile(re).MatchString(path) && (bestParams < 0 || n < bestParams) {
			best, bestParams = tmpl, n
		}
	}
	return best
}

// roundTrip turns a value decoded from YAML into what encoding/json
// would decode (numbers as float64).
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// dig resolves a local JSON pointer ("#/a/b") in doc.
func dig(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	var cur any = doc
	for _, part := range strings.Split(rest, "/")[1:] {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not an object", part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("no %q", part)
		}
	}
	return cur, nil
}

// resolve follows $refs until it reaches an object.
func resolve(t *testing.T, spec map[string]any, v any) map[string]any {
	t.Helper()
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v is not an object", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var err error
		if v, err = dig(spec, ref); err != nil {
			t.Fatalf("$ref %s: %v", ref, err)
		}
	}
	t.Fatal("$ref loop")
	return nil
}

// validate checks v against the subset of JSON Schema 2020-12 the spec
// uses: $ref, allOf, anyOf, oneOf, type, const, enum, required,
// properties, additionalProperties, items, minItems, minLength, maxLength,
// minimum, maximum and format date-time.
func validate(spec map[string]any, schema any, v any, at string) error {
	s, ok := schema.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: schema %v is not an object", at, schema)
	}
	if ref, ok := s["$ref"].(string); ok {
		target, err := dig(spec, ref)
		if err != nil {
			return fmt.Errorf("%s: %v", at, err)
		}
		if err := validate(spec, target, v, at); err != nil {
			return err
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			if err := validate(spec, sub, v, at); err != nil {
				return err
			}
		}
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		alts, ok := s[kw].([]any)
		if !ok {
			continue
		}
		var errs []string
		matched := 0
		for _, sub := range alts {
			if err := validate(spec, sub, v, at); err != nil {
				errs = append(errs, err.Error())
			} else {
				matched++
			}
		}
		if matched == 0 || (kw == "oneOf" && matched > 1) {
			return fmt.Errorf("%s: %d of %s match: %s", at, matched, kw, strings.Join(errs, "; "))
		}
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		return fmt.Errorf("%s: %v, want %v", at, v, c)
	}
	if e, ok := s["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
		return fmt.Errorf("%s: %v not in %v", at, v, e)
	}
	if typ, ok := s["type"]; ok {
		types, ok := typ.([]any)
		if !ok {
			types = []any{typ}
		}
		if !slices.ContainsFunc(types, func(t any) bool { return hasType(t.(string), v) }) {
			return fmt.Errorf("%s: %T %v, want type %v", at, v, v, typ)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := v[r.(string)]; !ok {
				return fmt.Errorf("%s: required field %s missing", at, r)
			}
		}
		for k, x := range v {
			if ps, ok := props[k]; ok {
				if err := validate(spec, ps, x, at+"."+k); err != nil {
					return err
				}
			} else if s["additionalProperties"] == false {
				return fmt.Errorf("%s: field %s not in the schema", at, k)
			}
		}
	case []any:
		if n, ok := s["minItems"].(int); ok && len(v) < n {
			return fmt.Errorf("%s: %d items, want at least %d", at, len(v), n)
		}
		if items, ok := s["items"]; ok {
			for i, x := range v {
				if err := validate(spec, items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case string:
		n := len([]rune(v))
		if m, ok := s["minLength"].(int); ok && n < m {
			return fmt.Errorf("%s: %q shorter than %d", at, v, m)
		}
		if m, ok := s["maxLength"].(int); ok && n > m {
			return fmt.Errorf("%s: longer than %d", at, m)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, v)
			}
		}
	case float64:
		if m, ok := s["minimum"].(int); ok && v < float64(m) {
			return fmt.Errorf("%s: %v below %d", at, v, m)
		}
		if m, ok := s["maximum"].(int); ok && v > float64(m) {
			return fmt.Errorf("%s: %v above %d", at, v, m)
		}
	}
	return nil
}

func hasType(typ string, v any) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "number":
		_, ok := v.(float64)
		return ok
	}
	return false
}
