package verify_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDocListsEveryReason keeps the package documentation's list of
// rejection rules complete: every Reason constant must appear there as
// "code/reason", so that a reader finds any rule in one place.
func TestDocListsEveryReason(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Reason") || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		reason, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		n++
		// \b keeps "missing" from matching inside "missing_sub".
		if !regexp.MustCompile(`[a-z]/` + regexp.QuoteMeta(reason) + `\b`).Match(doc) {
			t.Errorf("doc.go lists no rule with reason %s (%s)", vs.Names[0].Name, reason)
		}
		return true
	})
	if n < 20 {
		t.Fatalf("found only %d Reason constants in error.go", n)
	}
}
