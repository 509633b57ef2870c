// Package emailkey decides when two email addresses are one account, and
// which addresses a new account may have.
//
// Of returns an address's key: Unicode's compatibility caseless match
// (NFKD, full case folding, and again, as in Unicode §3.13 D146), with
// default-ignorable code points (zero-width and bidi controls, variation
// selectors, Hangul fillers, tags...) removed, as NFKC_Casefold removes
// them, and composed to NFC to store. So "ſam@x" and "sam@x", "σς@x" and
// "σσ@x", "ＳＡＭ@x" and "sam@x", the NFC and the NFD "café@x", and
// "sa\u200bm@x" and "sam@x" have one key. The key is idempotent:
// Of(Of(s)) == Of(s).
//
// Check refuses, for a new account, addresses that are not a bare address
// (in their given and their key form), and addresses holding controls,
// format characters, other default ignorables, spaces, private-use,
// surrogate, unassigned or noncharacter code points, or blank-looking
// symbols.
//
// The package imports only the standard library and golang.org/x/text, so
// the store and the account logic can share it.
package emailkey

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxLen is the most bytes an address, and its key, may have.
const MaxLen = 254

// The reasons Check gives, worded as field messages of a validation error.
var (
	ErrSyntax     = errors.New("must be a valid email address of at most 254 characters")
	ErrCharacters = errors.New("must not contain control, invisible, space, private-use or unassigned characters")
)

// fold is Unicode full case folding; it is stateless and safe for
// concurrent use.
var fold = cases.Fold()

// maxRounds bounds the fold-and-decompose rounds of Of. Two are D146;
// every string tried (all code points one by one, and the fuzzer's) is
// stable after them, and a third round only confirms it.
const maxRounds = 4

// Of returns the key of addr, which is valid UTF-8 in NFC. Invalid UTF-8
// becomes U+FFFD first (Check refuses it anyway). It costs time in
// proportion to len(addr), about half a microsecond a byte: callers bound
// what a client sends before keying it.
func Of(addr string) string {
	s := norm.NFD.String(strings.ToValidUTF8(addr, "\uFFFD"))
	for range maxRounds {
		next := norm.NFKD.String(strings.Map(afterFold, fold.String(s)))
		if next == s {
			break
		}
		s = next
	}
	return norm.NFC.String(s)
}

// afterFold is a strings.Map function applied to folded text. It removes
// default-ignorable code points: format characters (Cf: zero-width space
// and joiners, bidi controls, soft hyphen, tags...), variation selectors
// and the other default ignorables (combining grapheme joiner, Hangul
// fillers...). And it corrects x/text's folding of Cherokee
// (golang.org/issue/46101): Unicode folds the small letters added in 8.0
// to the capitals encoded first, but cases.Fold swaps the two, so that
// folding twice gives back the capital.
func afterFold(r rune) rune {
	switch {
	case ignorable(r):
		return -1
	case r >= 0xAB70 && r <= 0xABBF: // CHEROKEE SMALL LETTER A ... MV
		return r - 0xAB70 + 0x13A0
	case r >= 0x13F8 && r <= 0x13FD: // CHEROKEE SMALL LETTER YE ... MV
		return r - 0x13F8 + 0x13F0
	}
	return r
}

func ignorable(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// Check reports whether addr may be a new account's address: nil, or
// ErrCharacters or ErrSyntax. Both rules hold for the address as given and
// for its key, so an accepted address's key is accepted too. (The key can
// hold a refused character the address lacks: normalisation puts a
// combining grapheme joiner into a run of more than 30 combining marks.)
func Check(addr string) error {
	if len(addr) > MaxLen { // before keying it
		return ErrSyntax
	}
	if !utf8.ValidString(addr) {
		return ErrCharacters
	}
	key := Of(addr)
	if strings.ContainsFunc(addr, refused) || strings.ContainsFunc(key, refused) {
		return ErrCharacters
	}
	if !bare(addr) || !bare(key) {
		return ErrSyntax
	}
	return nil
}

// refused reports whether r may not appear in a new address: what Of drops
// (an address must not depend on characters nobody sees), controls,
// non-ASCII spaces and separators (net/mail lets them through),
// private-use, surrogate and noncharacter code points, code points this
// Unicode version does not assign (their key could change once one is
// assigned), and symbols that look blank or stand for lost text.
func refused(r rune) bool {
	switch r {
	case utf8.RuneError, '\u2800', '\uFFFC': // replacement, braille blank, object replacement
		return true
	}
	if r < utf8.RuneSelf { // ASCII: controls here, the rest is syntax
		return r < 0x20 || r == 0x7f
	}
	// Letters, marks, numbers, punctuation and symbols only: no controls
	// (Cc), format characters (Cf), private use (Co), surrogates (Cs),
	// spaces or separators (Z), unassigned code points or noncharacters (Cn).
	return ignorable(r) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

// bare reports whether s is a bare addr-spec of at most MaxLen bytes: no
// display name, no angle brackets, no surrounding space, no quoting or
// comment that parsing would remove.
func bare(s string) bool {
	if s == "" || len(s) > MaxLen || strings.TrimSpace(s) != s {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1
}
