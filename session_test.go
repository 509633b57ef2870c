package latchkey_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// revocationReasons reads the values of the Reason* constants of
// session.go's revocation-reason block from the source, so that a reason
// added there without an initiating entity fails TestInitiatingEntity.
func revocationReasons(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "session.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Reason") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				reasons = append(reasons, v)
			}
		}
	}
	return reasons
}

// TestInitiatingEntity holds every revocation reason to issue 15's table.
func TestInitiatingEntity(t *testing.T) {
	want := map[string]string{
		latchkey.ReasonSignout:         latchkey.EntityUser,
		latchkey.ReasonSessionRevoked:  latchkey.EntityUser,
		latchkey.ReasonPasswordChanged: latchkey.EntityUser,
		latchkey.ReasonPasswordReset:   latchkey.EntityUser,
		latchkey.ReasonEmailVerified:   latchkey.EntityUser,
		latchkey.ReasonEmailChanged:    latchkey.EntityUser,
		latchkey.ReasonMFAEnabled:      latchkey.EntityUser,
		latchkey.ReasonUserDisabled:    latchkey.EntityAdmin,
		latchkey.ReasonRoleChanged:     latchkey.EntityAdmin,
		latchkey.ReasonMFAReset:        latchkey.EntityAdmin,
		latchkey.ReasonRefreshReuse:    latchkey.EntityPolicy,
		latchkey.ReasonSessionLimit:    latchkey.EntityPolicy,
	}
	reasons := revocationReasons(t)
	if len(reasons) < len(want) {
		t.Fatalf("read %d reasons from session.go, want at least %d", len(reasons), len(want))
	}
	for _, r := range reasons {
		w, ok := want[r]
		if !ok {
			t.Errorf("reason %q has no initiating entity in this test's table (and in InitiatingEntity?)", r)
			continue
		}
		if got := latchkey.InitiatingEntity(r); got != w {
			t.Errorf("InitiatingEntity(%q) = %q, want %q", r, got, w)
		}
	}
	for _, r := range []string{"", "bogus", "Signout", latchkey.ReasonPasskeyCounter} {
		if got := latchkey.InitiatingEntity(r); got != latchkey.EntitySystem {
			t.Errorf("InitiatingEntity(%q) = %q, want system", r, got)
		}
	}
}
