package password

import (
	_ "embed"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"
)

// common.txt holds the 11,611 passwords of 8 to 128 characters among the
// 30,000 most common ones of zxcvbn 4.4.2's frequency list (the "passwords"
// list of lib/frequency_lists.js, drawn from Xato's corpus), one a line,
// lower case; shorter ones break the length rule anyway. zxcvbn is
// Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc., MIT licensed: see
// common-LICENSE.txt.
//
//go:embed common.txt
var commonText string

var (
	commonOnce sync.Once
	commonSet  map[string]struct{}
)

// IsCommon reports whether pw, normalised and compared without case, is one
// of the most common passwords.
func IsCommon(pw string) bool {
	commonOnce.Do(func() {
		lines := strings.Split(strings.TrimSpace(commonText), "\n")
		commonSet = make(map[string]struct{}, len(lines))
		for _, l := range lines {
			commonSet[l] = struct{}{}
		}
	})
	_, ok := commonSet[strings.ToLower(Normalize(pw))]
	return ok
}

// Normalize is the form a password is hashed and checked in: Unicode NFKC,
// so that the same password typed on two keyboards (composed or decomposed
// accents, full-width digits) is the same password (NIST SP 800-63B 5.1.1.2).
func Normalize(pw string) string {
	return norm.NFKC.String(pw)
}
