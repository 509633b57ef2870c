package latchkey_test

import (
	"testing"

	"github.com/latchkey/latchkey"
)

// hidden are characters that no text field accepts, one of each kind.
var hidden = map[string]string{
	"NUL": "\x00", "BEL": "\a", "backspace": "\b", "ESC": "\x1b", "DEL": "\x7f",
	"C1 NEL": "\u0085", "C1 CSI": "\u009b",
	"ALM": "\u061c", "LRM": "\u200e", "RLM": "\u200f", "LRE": "\u202a", "RLO": "\u202e",
	"LRI": "\u2066", "PDI": "\u2069",
	"ZWSP": "\u200b", "word joiner": "\u2060", "invisible plus": "\u2064", "BOM": "\ufeff",
	"Mongolian vowel separator": "\u180e", "line separator": "\u2028", "paragraph separator": "\u2029",
}

func TestPlainLineAndText(t *testing.T) {
	for name, c := range hidden {
		for _, s := range []string{c, "a" + c, c + "b", "a" + c + "b"} {
			if latchkey.PlainLine(s) {
				t.Errorf("PlainLine accepts %s in %q", name, s)
			}
			if latchkey.PlainText(s) {
				t.Errorf("PlainText accepts %s in %q", name, s)
			}
		}
	}
	for _, s := range []string{"\n", "\t", "a\nb", "a\r\nb", "\r\n"} {
		if latchkey.PlainLine(s) {
			t.Errorf("PlainLine accepts %q", s)
		}
		if !latchkey.PlainText(s) {
			t.Errorf("PlainText refuses %q", s)
		}
	}
	for _, s := range []string{"\r", "a\rb", "a\r", "\r\r\n", "a\n\rb"} {
		if latchkey.PlainText(s) {
			t.Errorf("PlainText accepts a lone CR in %q", s)
		}
	}
	// What people write passes: accents, scripts that need ZWNJ, emoji that
	// need ZWJ, right-to-left text (its direction is the characters' own).
	for _, s := range []string{
		"", "Ada Lovelace", "Zoë O'Brien-Łukasiewicz", "李小龍", "می\u200cخواهم", "क्\u200dष",
		"👩\u200d💻", "👨\u200d👩\u200d👧", "שלום עולם", "مرحبا", "a\u00a0b",
	} {
		if !latchkey.PlainLine(s) || !latchkey.PlainText(s) {
			t.Errorf("refused %q", s)
		}
	}
}

func TestValidateTaskFieldsCharacters(t *testing.T) {
	str := func(s string) *string { return &s }
	for name, c := range hidden {
		errs := latchkey.ValidateTaskFields(str("buy "+c+"milk"), str("x"+c))
		if len(errs) != 2 || errs[0] != (latchkey.FieldError{Field: "title", Message: latchkey.LineRuleText}) ||
			errs[1] != (latchkey.FieldError{Field: "description", Message: latchkey.TextRuleText}) {
			t.Errorf("%s: %v", name, errs)
		}
	}
	if errs := latchkey.ValidateTaskFields(str("a\tb"), nil); len(errs) != 1 || errs[0].Field != "title" {
		t.Errorf("tab in a title: %v", errs)
	}
	if errs := latchkey.ValidateTaskFields(str("Buy milk 🥛"), str("2 litres,\r\n\tthe oat one\n")); len(errs) != 0 {
		t.Errorf("plain fields refused: %v", errs)
	}
}
