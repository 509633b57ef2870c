package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// printable returns s with every character a terminal would not show as
// itself escaped as in a Go string literal: controls (ESC is \x1b, newline
// \n), bidirectional and zero-width characters (\u202e, \u200b), anything
// else strconv.IsPrint refuses, and each byte that is not UTF-8 (\xff).
// What the commands print comes partly from outside (a user id from an
// external issuer, an IP, a reason, a token's claims, a flag's value), and
// none of it may steer the operator's terminal. Every command prints
// through it; a backslash is left as it is, so printable text stays
// readable, at the cost of `\x1b` typed literally looking like an escaped
// ESC.
func printable(s string) string {
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case hidden(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// hidden reports whether printable escapes r; utf8.RuneError stands for a
// byte that is not UTF-8 as strings.ContainsFunc meets it.
func hidden(r rune) bool {
	return r == utf8.RuneError || !strconv.IsPrint(r)
}
