package emailkey

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// One account: every spelling in a row has the same key.
func TestOfSameKey(t *testing.T) {
	for _, group := range [][]string{
		{"sam@x", "SAM@X", "ſam@x", "ſAM@x", "ＳＡＭ@x", "ｓａｍ@ｘ"},
		{"σς@x", "σσ@x", "ΣΣ@x", "Σς@x"},
		{"café@x", "cafe\u0301@x", "CAFÉ@x", "CAFE\u0301@X"},
		{"strasse@x", "straße@x", "STRASSE@x", "STRAẞE@x"},
		{"kelvin@x", "\u212Aelvin@x"}, // KELVIN SIGN
		{"file@x", "\uFB01le@x"},      // the ﬁ ligature
		{"a1@x", "a\u2460@x", "a¹@x"}, // circled and superscript one
		{"sam@x", "sa\u200bm@x", "s\u200dam@x", "\u202esam@x", "sam@x\u2060", "sa\u00adm@x", "sam\ufe0f@x"},
		{"\u13a0@x", "\uab70@x"}, // Cherokee A, capital and small (golang.org/issue/46101)
		{"\u13f0@x", "\u13f8@x"},
		{"ᾳ@x", "α\u0345@x", "αι@x", "ΑΙ@x"}, // ypogegrammeni folds to iota
	} {
		want := Of(group[0])
		for _, s := range group[1:] {
			if got := Of(s); got != want {
				t.Errorf("Of(%+q) = %+q, want %+q as for %+q", s, got, want, group[0])
			}
		}
	}
}

// Different accounts: different keys.
func TestOfDifferentKeys(t *testing.T) {
	for _, pair := range [][2]string{
		{"sam@x", "sam@y"},
		{"cafe@x", "café@x"},
		{"sam@x", "ѕam@x"}, // Cyrillic dze: a look-alike of another script, not the same letter
		{"a.b@x", "ab@x"},
		{"a+b@x", "a@x"},
	} {
		if Of(pair[0]) == Of(pair[1]) {
			t.Errorf("Of(%+q) == Of(%+q) == %+q", pair[0], pair[1], Of(pair[0]))
		}
	}
}

// Every assigned code point between letters: the key is stable (a key's
// key is itself) and in NFC, and spellings that Go's strings.EqualFold calls
// equal (the simple folding orbit) have one key. (Unassigned and
// private-use code points neither fold nor decompose.)
func TestOfEveryCodePoint(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf) {
			continue
		}
		s := "a" + string(r) + "b@x"
		k := Of(s)
		if Of(k) != k {
			t.Fatalf("%U: Of(%+q) = %+q, whose key is %+q", r, s, k, Of(k))
		}
		if !norm.NFC.IsNormalString(k) || !utf8.ValidString(k) {
			t.Fatalf("%U: key %+q is not valid NFC", r, k)
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			o := "a" + string(f) + "b@x"
			if !strings.EqualFold(s, o) {
				t.Fatalf("%U and %U: not EqualFold", r, f)
			}
			if Of(o) != k {
				t.Fatalf("%U and %U: EqualFold, keys %+q and %+q", r, f, k, Of(o))
			}
		}
	}
}

func TestCheck(t *testing.T) {
	accepted := []string{
		"sam@example.com", "Sam.O'Neil+tag@Example.COM", "ſam@x", "ＳＡＭ@example.com",
		"café@example.com", "cafe\u0301@example.com", "σς@example.gr", "用户@例子.广告",
		"שלום@example.co.il", "δοκιμή@παράδειγμα.δοκιμή", "a@b", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 189),
	}
	for _, s := range accepted {
		if err := Check(s); err != nil {
			t.Errorf("Check(%+q) = %v, want accepted", s, err)
		}
		if err := Check(Of(s)); err != nil {
			t.Errorf("Check(Of(%+q)) = Check(%+q) = %v, want accepted", s, Of(s), err)
		}
	}
	refused := []struct {
		s    string
		want error
	}{
		{"", ErrSyntax},
		{"sam", ErrSyntax},
		{"sam@", ErrSyntax},
		{"@x", ErrSyntax},
		{"Sam <sam@x>", ErrSyntax},
		{" sam@x", ErrSyntax},
		{`"s m"@x`, ErrSyntax},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190), ErrSyntax}, // 255 bytes
		{strings.Repeat("\u200b", 1<<18) + "a@b", ErrSyntax},                  // too long, whatever it holds
		{"a\uFE6Bb@x.com", ErrSyntax},                                         // small commercial at: its key has two @
		{"ŉŉŉ" + strings.Repeat("a", 246) + "@x", ErrSyntax},                  // 252 bytes, its key (ʼn...) 257
		{"a" + strings.Repeat("\u0301", 31) + "@x", ErrCharacters},            // its key gets a grapheme joiner
		{"sa\u200bm@x", ErrCharacters},                                        // zero-width space
		{"sa\u200cm@x", ErrCharacters},                                        // zero-width non-joiner
		{"sa\u200dm@x", ErrCharacters},                                        // zero-width joiner
		{"sam\u2060@x", ErrCharacters},                                        // word joiner
		{"\ufeffsam@x", ErrCharacters},                                        // BOM
		{"\u202esam@x", ErrCharacters},                                        // right-to-left override
		{"sam\u2066@x", ErrCharacters},                                        // left-to-right isolate
		{"sam\u200e@x", ErrCharacters},                                        // left-to-right mark
		{"sa\u00adm@x", ErrCharacters},                                        // soft hyphen
		{"sam\U000E0041@x", ErrCharacters},                                    // tag letter
		{"sam\ufe0f@x", ErrCharacters},                                        // variation selector
		{"sa\u034fm@x", ErrCharacters},                                        // combining grapheme joiner
		{"\u3164sam@x", ErrCharacters},                                        // Hangul filler
		{"sam\u115f@x", ErrCharacters},                                        // Hangul choseong filler
		{"sa\u2800m@x", ErrCharacters},                                        // braille blank
		{"sa\ufffcm@x", ErrCharacters},                                        // object replacement
		{"sa\ufffdm@x", ErrCharacters},                                        // replacement character
		{"sa\x00m@x", ErrCharacters},                                          // NUL
		{"sa\tm@x", ErrCharacters},                                            // tab
		{"sa\x7fm@x", ErrCharacters},                                          // DEL
		{"sa\u0085m@x", ErrCharacters},                                        // C1 next line
		{"sa\u00a0m@x", ErrCharacters},                                        // no-break space
		{"sa\u3000m@x", ErrCharacters},                                        // ideographic space
		{"sa\u2028m@x", ErrCharacters},                                        // line separator
		{"sa\ue000m@x", ErrCharacters},                                        // private use
		{"sa\U000F0000m@x", ErrCharacters},                                    // supplementary private use
		{"sa\U000E0080m@x", ErrCharacters},                                    // unassigned
		{"sa\ufdd0m@x", ErrCharacters},                                        // noncharacter
		{"sa\uffffm@x", ErrCharacters},                                        // noncharacter
		{"sa\xffm@x", ErrCharacters},                                          // invalid UTF-8
		{"sa\xed\xa0\x80m@x", ErrCharacters},                                  // an encoded surrogate
	}
	for _, tc := range refused {
		if err := Check(tc.s); !errors.Is(err, tc.want) {
			t.Errorf("Check(%+q) = %v, want %v", tc.s, err, tc.want)
		}
	}
}

// refusedSamples are code points Check refuses, one of each kind, for the
// fuzzer to plant.
var refusedSamples = []rune{0, '\t', 0x7f, 0x85, 0xa0, 0xad, 0x34f, 0x115f, 0x180e, 0x200b, 0x200d,
	0x200e, 0x202e, 0x2028, 0x2066, 0x2800, 0x3000, 0x3164, 0xe000, 0xfdd0, 0xfe0f, 0xfeff, 0xfffc,
	0xfffd, 0xffff, 0xe0001, 0xe0080, 0xf0000}

// FuzzOf: Of never panics; its key is valid NFC and its own key; an
// accepted address's key is accepted too; a refused code point planted
// anywhere in an address gets it refused, and Check agrees with a plain
// reading of its rules.
func FuzzOf(f *testing.F) {
	for _, s := range []string{"sam@x", "ſam@x", "σς@x", "cafe\u0301@x", "ＳＡＭ@x", "sa\u200bm@x",
		"ᾳ@x", "\uab70@x", "a\uFE6Bb@x.com", "ß@x", "\xff", "", "İ@x", "\u0345\u0345\u0345",
		"a" + strings.Repeat("\u0301", 31) + "@x"} {
		f.Add(s, uint(0), uint(0))
	}
	f.Fuzz(func(t *testing.T, s string, at, which uint) {
		k := Of(s)
		if !utf8.ValidString(k) || !norm.NFC.IsNormalString(k) {
			t.Fatalf("Of(%+q) = %+q: not valid NFC", s, k)
		}
		if kk := Of(k); kk != k {
			t.Fatalf("Of(%+q) = %+q, whose key is %+q", s, k, kk)
		}
		err := Check(s)
		if err == nil {
			if e := Check(k); e != nil {
				t.Fatalf("Check(%+q) accepts, Check of its key %+q = %v", s, k, e)
			}
		}
		hasRefused := !utf8.ValidString(s) || strings.ContainsFunc(s, refused) || strings.ContainsFunc(k, refused)
		switch {
		case len(s) > MaxLen:
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Check of %d bytes = %v, want %v", len(s), err, ErrSyntax)
			}
		case hasRefused != errors.Is(err, ErrCharacters):
			t.Fatalf("Check(%+q) = %v, but refused characters in it or its key %+q: %v", s, err, k, hasRefused)
		}
		// Plant a refused code point at a rune boundary.
		runes := []rune(s)
		i := int(at % uint(len(runes)+1))
		planted := string(runes[:i]) + string(refusedSamples[which%uint(len(refusedSamples))]) + string(runes[i:])
		want := ErrCharacters
		if len(planted) > MaxLen {
			want = ErrSyntax
		}
		if got := Check(planted); !errors.Is(got, want) {
			t.Fatalf("Check(%+q) = %v, want %v", planted, got, want)
		}
	})
}
