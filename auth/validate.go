package auth

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// Limits of the contract.
const (
	MaxEmailLen      = 254
	MinPasswordLen   = 8
	MaxPasswordLen   = 128
	MaxNameLen       = 100
	passwordRuleText = "must be 8 to 128 characters"
	emailRuleText    = "must be a valid email address of at most 254 characters"
	nameRuleText     = "must be at most 100 characters"
	requiredRuleText = "is required"
)

// validEmail accepts a bare addr-spec: no display name, no angle brackets,
// no surrounding space.
func validEmail(s string) bool {
	if s == "" || len(s) > MaxEmailLen || strings.TrimSpace(s) != s {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1
}

// checkPassword appends a field error when pw breaks the length rule.
// Lengths count characters, not bytes.
func checkPassword(field, pw string, errs []latchkey.FieldError) []latchkey.FieldError {
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		return append(errs, latchkey.FieldError{Field: field, Message: requiredRuleText})
	case n < MinPasswordLen || n > MaxPasswordLen:
		return append(errs, latchkey.FieldError{Field: field, Message: passwordRuleText})
	}
	return errs
}
