package httpapi_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// contractDoc is the contract, docs/api.md, from this package's directory.
const contractDoc = "../docs/api.md"

// problemRef is the Problem schema, whose code enum lists every code.
const problemRef = "#/components/schemas/Problem"

// mdTable is one markdown table: its header cells and its rows, each with
// the line it is on (1-based).
type mdTable struct {
	header []string
	rows   []mdRow
}

type mdRow struct {
	line  int
	cells []string
}

// delimiterRow matches the line under a table's header: |---|:--:|...
var delimiterRow = regexp.MustCompile(`^\|(\s*:?-+:?\s*\|)+\s*$`)

// markdownTables returns the tables of a markdown document, leaving out
// fenced code blocks.
func markdownTables(text string) []mdTable {
	lines := strings.Split(text, "\n")
	var tables []mdTable
	fenced := false
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if fenced || !strings.HasPrefix(line, "|") || i+1 >= len(lines) || !delimiterRow.MatchString(strings.TrimSpace(lines[i+1])) {
			continue
		}
		tb := mdTable{header: tableCells(line)}
		for i += 2; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
			tb.rows = append(tb.rows, mdRow{line: i + 1, cells: tableCells(strings.TrimSpace(lines[i]))})
		}
		tables = append(tables, tb)
	}
	return tables
}

// tableCells splits a table row at the pipes that are not escaped as \|,
// and trims each cell; an escaped pipe becomes a plain one.
func tableCells(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cell.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

// loadContract reads docs/api.md's tables.
func loadContract(t *testing.T) []mdTable {
	t.Helper()
	b, err := os.ReadFile(contractDoc)
	if err != nil {
		t.Fatal(err)
	}
	return markdownTables(string(b))
}

// contractRoute is the first cell of a route table: a method and a path
// in backticks, perhaps followed by a query string, which is left out.
var contractRoute = regexp.MustCompile("^`([A-Z]+) (/[^`?\\s]*)(\\?[^`]*)?`$")

// contractRoutes reads every table of docs/api.md whose first column is
// "method and path" and returns its routes as "METHOD /path", each with
// the line it is written on.
func contractRoutes(t *testing.T) map[string]int {
	t.Helper()
	routes := map[string]int{}
	for _, tb := range loadContract(t) {
		if tb.header[0] != "method and path" {
			continue
		}
		for _, r := range tb.rows {
			m := contractRoute.FindStringSubmatch(r.cells[0])
			if m == nil {
				t.Errorf("%s:%d: %q is not `METHOD /path` in backticks", contractDoc, r.line, r.cells[0])
				continue
			}
			op := m[1] + " " + m[2]
			if first, ok := routes[op]; ok {
				t.Errorf("%s:%d: %s is already on line %d", contractDoc, r.line, op, first)
			}
			routes[op] = r.line
		}
	}
	if len(routes) < 10 {
		t.Fatalf("%s: found only %d routes in tables headed `method and path`; is the parsing broken?", contractDoc, len(routes))
	}
	return routes
}

// statusCode is one row of the error table: an HTTP status and a code.
type statusCode struct {
	status int
	code   string
}

func (p statusCode) String() string { return fmt.Sprintf("%d %s", p.status, p.code) }

// contractCodes reads docs/api.md's error table, the one table headed
// status | code | when, and returns its rows, each with its line.
func contractCodes(t *testing.T) map[statusCode]int {
	t.Helper()
	var found []mdTable
	for _, tb := range loadContract(t) {
		if slices.Equal(tb.header, []string{"status", "code", "when"}) {
			found = append(found, tb)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d tables headed `status | code | when`, want exactly one", contractDoc, len(found))
	}
	codes := map[statusCode]int{}
	for _, r := range found[0].rows {
		status, err := strconv.Atoi(r.cells[0])
		code, ok := strings.CutPrefix(r.cells[1], "`")
		code, ok2 := strings.CutSuffix(code, "`")
		if err != nil || !ok || !ok2 || code == "" || strings.Contains(code, "`") {
			t.Errorf("%s:%d: want a status and a `code`, got %q and %q", contractDoc, r.line, r.cells[0], r.cells[1])
			continue
		}
		p := statusCode{status, code}
		if first, ok := codes[p]; ok {
			t.Errorf("%s:%d: %s is already on line %d", contractDoc, r.line, p, first)
		}
		codes[p] = r.line
	}
	if len(codes) < 10 {
		t.Fatalf("%s: found only %d rows in the error table; is the parsing broken?", contractDoc, len(codes))
	}
	return codes
}

// specOp is one operation of openapi.yaml.
type specOp struct {
	where string         // "METHOD /path"
	path  string         // "/path"
	item  map[string]any // the path item: its parameters apply too
	op    map[string]any
}

// specOps lists the operations of openapi.yaml.
func specOps(spec map[string]any) []specOp {
	var ops []specOp
	paths, _ := spec["paths"].(map[string]any)
	for path, it := range paths {
		item := it.(map[string]any)
		for _, m := range httpMethods {
			if op, ok := item[m].(map[string]any); ok {
				ops = append(ops, specOp{where: strings.ToUpper(m) + " " + path, path: path, item: item, op: op})
			}
		}
	}
	return ops
}

// specOperations returns the operations of openapi.yaml as "METHOD /path".
func specOperations(spec map[string]any) map[string]bool {
	ops := map[string]bool{}
	for _, o := range specOps(spec) {
		ops[o.where] = true
	}
	return ops
}

// problemCodes returns the codes a problem schema allows, and false when
// it does not narrow the Problem schema's code at all: a $ref to Problem
// alone allows every code, and says nothing of which goes with a status.
func problemCodes(spec map[string]any, schema any) (map[string]bool, bool) {
	s, ok := schema.(map[string]any)
	if !ok {
		return nil, false
	}
	var sets []map[string]bool
	if ref, ok := s["$ref"].(string); ok && ref != problemRef {
		if target, err := dig(spec, ref); err == nil {
			if c, ok := problemCodes(spec, target); ok {
				sets = append(sets, c)
			}
		}
	}
	if code, _ := dig(s, "#/properties/code"); code != nil {
		cm, _ := code.(map[string]any)
		if c, ok := cm["const"]; ok {
			sets = append(sets, map[string]bool{fmt.Sprint(c): true})
		}
		if e, ok := cm["enum"].([]any); ok {
			set := map[string]bool{}
			for _, c := range e {
				set[fmt.Sprint(c)] = true
			}
			sets = append(sets, set)
		}
	}
	all, _ := s["allOf"].([]any)
	for _, sub := range all {
		if c, ok := problemCodes(spec, sub); ok {
			sets = append(sets, c)
		}
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		alts, ok := s[kw].([]any)
		if !ok {
			continue
		}
		union, narrowed := map[string]bool{}, true
		for _, sub := range alts {
			c, ok := problemCodes(spec, sub)
			narrowed = narrowed && ok
			for code := range c {
				union[code] = true
			}
		}
		if narrowed {
			sets = append(sets, union)
		}
	}
	if len(sets) == 0 {
		return nil, false
	}
	codes := sets[0]
	for _, set := range sets[1:] {
		for code := range codes {
			if !set[code] {
				delete(codes, code)
			}
		}
	}
	return codes, true
}

// specCodes returns every status and code pair that openapi.yaml's
// operations answer with application/problem+json, each with the
// operations that answer it.
func specCodes(t *testing.T, spec map[string]any) map[statusCode][]string {
	t.Helper()
	pairs := map[statusCode][]string{}
	for _, o := range specOps(spec) {
		where := o.where
		responses, _ := o.op["responses"].(map[string]any)
		for key, ro := range responses {
			media, _ := dig(resolve(t, spec, ro), "#/content/application~1problem+json")
			if media == nil {
				continue
			}
			status, err := strconv.Atoi(key)
			if err != nil {
				t.Errorf("openapi.yaml: %s: a problem answer under %q, which names no status", where, key)
				continue
			}
			codes, narrowed := problemCodes(spec, media.(map[string]any)["schema"])
			switch {
			case !narrowed:
				t.Errorf("openapi.yaml: %s %d: the schema does not say which codes this status answers; narrow the Problem schema's code (allOf with a code const or enum)", where, status)
			case len(codes) == 0:
				t.Errorf("openapi.yaml: %s %d: no code fits the schema", where, status)
			}
			for code := range codes {
				p := statusCode{status, code}
				pairs[p] = append(pairs[p], where)
			}
		}
	}
	return pairs
}

// TestContractRoutes fails when a route is in docs/api.md's route tables
// but not in openapi.yaml, or the other way round. (TestOpenAPICoversRoutes
// holds openapi.yaml to routes.go.) The web app's page is in the contract
// but, like the other nonAPIRoutes, not in openapi.yaml.
func TestContractRoutes(t *testing.T) {
	contract := contractRoutes(t)
	described := specOperations(loadSpec(t))
	webApp := map[string]bool{}
	for p := range nonAPIRoutes {
		if op, err := specOperation(p); err == nil {
			webApp[op] = true
		}
	}
	for op, line := range contract {
		if !described[op] && !webApp[op] {
			t.Errorf("%s:%d: %s is in the contract but not in openapi.yaml", contractDoc, line, op)
		}
	}
	for op := range described {
		if _, ok := contract[op]; !ok {
			t.Errorf("%s is in openapi.yaml but in no route table of %s", op, contractDoc)
		}
	}
}

// TestContractErrorCodes fails unless docs/api.md's error table and
// openapi.yaml agree on every code and its status: each status and code
// of the table is answered by some operation of openapi.yaml, each that
// an operation answers is in the table, and the Problem schema's code enum
// lists exactly the table's codes.
func TestContractErrorCodes(t *testing.T) {
	contract := contractCodes(t)
	spec := loadSpec(t)
	described := specCodes(t, spec)
	for p, line := range contract {
		if _, ok := described[p]; !ok {
			t.Errorf("%s:%d: %s is in the contract, but no operation of openapi.yaml answers it", contractDoc, line, p)
		}
	}
	for p, ops := range described {
		if _, ok := contract[p]; !ok {
			slices.Sort(ops)
			t.Errorf("openapi.yaml answers %s (%s), which is not in the error table of %s", p, strings.Join(ops, ", "), contractDoc)
		}
	}

	codes := map[string]bool{}
	for p := range contract {
		codes[p.code] = true
	}
	enum, err := dig(spec, problemRef+"/properties/code/enum")
	if err != nil {
		t.Fatalf("openapi.yaml: the Problem schema's code enum: %v", err)
	}
	listed := map[string]bool{}
	for _, c := range enum.([]any) {
		listed[fmt.Sprint(c)] = true
		if !codes[fmt.Sprint(c)] {
			t.Errorf("openapi.yaml: the Problem schema lists code %v, which is not in the error table of %s", c, contractDoc)
		}
	}
	for c := range codes {
		if !listed[c] {
			t.Errorf("%s: code %s is not in the Problem schema's code enum of openapi.yaml", contractDoc, c)
		}
	}
}
