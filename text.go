package latchkey

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Messages of the text-field rules, as a FieldError carries them.
const (
	LineRuleText = "must not contain control, bidirectional-control or invisible characters"
	TextRuleText = "must not contain control, bidirectional-control or invisible characters other than line breaks and tabs"
)

// hiddenRune reports whether r is a character no text field accepts, since
// it is not seen as itself: it steers a terminal or the layout of what
// follows, or shows nothing at all.
//
//   - C0 and C1 controls and DEL (ESC starts a terminal escape sequence);
//   - bidirectional controls: U+061C, U+200E, U+200F, U+202A-U+202E,
//     U+2066-U+2069 (they can make a text read in another order);
//   - zero-width and invisible format characters: U+200B, U+2060-U+2064,
//     U+2065-U+206F (unassigned or deprecated), U+180E, U+FEFF;
//   - U+2028 and U+2029, line breaks other than "\n".
//
// U+200C and U+200D (zero-width non-joiner and joiner) are not refused:
// Persian and the Indic scripts need them to spell words, and emoji
// sequences to compose (a family, a profession with a skin tone).
func hiddenRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == 0x061C, r == 0x200E, r == 0x200F, 0x202A <= r && r <= 0x202E:
		return true
	case r == 0x200B, 0x2060 <= r && r <= 0x206F, r == 0x180E, r == 0xFEFF:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// PlainLine reports whether s holds no hidden character: it may be a name
// or a title, one line of text.
func PlainLine(s string) bool {
	return !strings.ContainsFunc(s, hiddenRune)
}

// PlainText reports whether s is plain text over several lines: no hidden
// character but "\n", "\t", and "\r" directly before "\n" (CRLF, as a
// textarea form or a Windows client sends a line break). A lone "\r"
// moves a terminal's cursor back over the line, so it is refused.
func PlainText(s string) bool {
	for i, r := range s {
		switch {
		case r == '\n', r == '\t':
		case r == '\r':
			if next, _ := utf8.DecodeRuneInString(s[i+1:]); next != '\n' {
				return false
			}
		case hiddenRune(r):
			return false
		}
	}
	return true
}
