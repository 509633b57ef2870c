package httpapi

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/verify"
)

// The constants are read from the source, so that a code added to either
// package without a status here fails TestEveryCodeHasAStatus.
var (
	rootCodeName     = regexp.MustCompile(`^E[A-Z]+$`)
	verifyCodeName   = regexp.MustCompile(`^Code[A-Z][A-Za-z]*$`)
	verifyReasonName = regexp.MustCompile(`^Reason[A-Z][A-Za-z]*$`)
)

// TestEveryCodeHasAStatus checks statusOf against the codes as written: every
// E* constant of the root package; every Code* constant of verify, which must
// also equal its root namesake (CodeTokenExpired and ETOKENEXPIRED); and every
// Reason* constant of verify, with the code verify gives it, which must map
// to 401, the status verify.WriteError sends for any rejected token.
func TestEveryCodeHasAStatus(t *testing.T) {
	root := parseConsts(t, "..", rootCodeName)
	if root["EINTERNAL"] != latchkey.EINTERNAL || len(root) < 10 {
		t.Fatalf("read the root package's codes as %v", root)
	}
	for name, code := range root {
		if _, ok := statusOf[code]; !ok {
			t.Errorf("latchkey.%s (%q) has no status in statusOf", name, code)
		}
	}

	codes := parseConsts(t, "../verify", verifyCodeName)
	if codes["CodeInvalidToken"] != verify.CodeInvalidToken {
		t.Fatalf("read verify's codes as %v", codes)
	}
	for name, code := range codes {
		if _, ok := statusOf[code]; !ok {
			t.Errorf("verify.%s (%q) has no status in statusOf", name, code)
		}
		namesake := "E" + strings.ToUpper(strings.TrimPrefix(name, "Code"))
		switch v, ok := root[namesake]; {
		case !ok:
			t.Errorf("verify.%s has no namesake latchkey.%s: verify's codes are contract codes", name, namesake)
		case v != code:
			t.Errorf("verify.%s = %q but latchkey.%s = %q: a token code both packages use must be the same", name, code, namesake, v)
		}
	}

	reasons := parseConsts(t, "../verify", verifyReasonName)
	given := reasonCodes(t, "../verify")
	for name, reason := range reasons {
		if len(given[name]) == 0 {
			t.Errorf("verify.%s: found no place where verify builds an *Error with it, so no code to map", name)
		}
		for _, codeName := range given[name] {
			e := &verify.Error{Code: codes[codeName], Reason: reason}
			if status, ok := statusOf[e.Code]; !ok || status != http.StatusUnauthorized {
				t.Errorf("%v: status %d (mapped %v), want 401", e, status, ok)
			}
		}
	}
}

// goFiles parses the non-test Go files of dir.
func goFiles(t *testing.T, dir string) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return files
}

// parseConsts returns the string constants of the package in dir whose
// names match, by name. A matching constant that is not a string literal
// fails the test, which could not tell its value.
func parseConsts(t *testing.T, dir string, names *regexp.Regexp) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range goFiles(t, dir) {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !names.MatchString(id.Name) {
						continue
					}
					var lit *ast.BasicLit
					if i < len(vs.Values) {
						lit, _ = vs.Values[i].(*ast.BasicLit)
					}
					if lit == nil || lit.Kind != token.STRING {
						t.Fatalf("%s: %s is not a string literal; this test cannot read its value", dir, id.Name)
					}
					out[id.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		}
	}
	return out
}

// reasonCodes finds, in verify's source, the Code* constants each Reason*
// constant is given with: in an Error literal naming both, or as the
// argument of a helper whose body builds an Error with a fixed Code and
// that parameter as Reason (as invalid(reason, cause) does).
func reasonCodes(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files := goFiles(t, dir)
	type helper struct {
		arg  int
		code string
	}
	helpers := map[string]helper{}
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil {
				continue
			}
			var params []string
			for _, fld := range fn.Type.Params.List {
				for _, n := range fld.Names {
					params = append(params, n.Name)
				}
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if code, reason, ok := errorLiteral(n); ok {
					for i, p := range params {
						if p == reason {
							helpers[fn.Name.Name] = helper{i, code}
						}
					}
				}
				return true
			})
		}
	}
	out := map[string][]string{}
	add := func(reason, code string) {
		if verifyReasonName.MatchString(reason) && verifyCodeName.MatchString(code) && !slices.Contains(out[reason], code) {
			out[reason] = append(out[reason], code)
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if code, reason, ok := errorLiteral(n); ok {
				add(reason, code)
			}
			if call, ok := n.(*ast.CallExpr); ok {
				if fn, ok := call.Fun.(*ast.Ident); ok {
					if h, ok := helpers[fn.Name]; ok && h.arg < len(call.Args) {
						if id, ok := call.Args[h.arg].(*ast.Ident); ok {
							add(id.Name, h.code)
						}
					}
				}
			}
			return true
		})
	}
	return out
}

// errorLiteral reports the identifiers given as Code and Reason in an
// Error{...} composite literal.
func errorLiteral(n ast.Node) (code, reason string, ok bool) {
	lit, ok := n.(*ast.CompositeLit)
	if !ok {
		return "", "", false
	}
	if typ, ok := lit.Type.(*ast.Ident); !ok || typ.Name != "Error" {
		return "", "", false
	}
	for _, e := range lit.Elts {
		kv, isKV := e.(*ast.KeyValueExpr)
		if !isKV {
			continue
		}
		key, _ := kv.Key.(*ast.Ident)
		val, _ := kv.Value.(*ast.Ident)
		if key == nil || val == nil {
			continue
		}
		switch key.Name {
		case "Code":
			code = val.Name
		case "Reason":
			reason = val.Name
		}
	}
	return code, reason, code != "" && reason != ""
}

// TestUnmappedCodeIsInternal checks that a code missing from statusOf is
// answered 500 internal, logged at error with the code, and never panics
// (WriteHeader(0) would).
func TestUnmappedCodeIsInternal(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	w := httptest.NewRecorder()
	err := &latchkey.Error{Code: "no_such_code", Message: "secret detail", Fields: []latchkey.FieldError{{Field: "f", Message: "m"}}}
	writeError(w, httptest.NewRequest("GET", "/x", nil), log, err)
	var p problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if w.Code != 500 || p.Status != 500 || p.Code != latchkey.EINTERNAL || p.Errors != nil || strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("unmapped code answered %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var line struct{ Level, Code string }
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.Level != "ERROR" || line.Code != "no_such_code" || bytes.Count(logs.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("log %q, want one error line with the code", logs.String())
	}
}
