package auth

import (
	"unicode/utf8"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/emailkey"
	"github.com/latchkey/latchkey/password"
)

// Limits of the contract.
const (
	MaxEmailLen      = emailkey.MaxLen
	MinPasswordLen   = 8
	MaxPasswordLen   = 128
	MaxNameLen       = 100
	passwordRuleText = "must be 8 to 128 characters"
	nameRuleText     = "must be at most 100 characters"
	requiredRuleText = "is required"
	commonRuleText   = "is one of the most common passwords; choose another"
)

// maxPasswordBytes bounds the input before normalisation, which can expand
// a character many times over.
const maxPasswordBytes = 4 * MaxPasswordLen

// checkPassword appends a field error when pw breaks a rule: 8 to 128
// characters (any Unicode, counted after NFKC normalisation, as hashed) and
// not one of the most common passwords.
func checkPassword(field, pw string, errs []latchkey.FieldError) []latchkey.FieldError {
	if pw == "" {
		return append(errs, latchkey.FieldError{Field: field, Message: requiredRuleText})
	}
	if len(pw) > maxPasswordBytes {
		return append(errs, latchkey.FieldError{Field: field, Message: passwordRuleText})
	}
	if n := utf8.RuneCountInString(password.Normalize(pw)); n < MinPasswordLen || n > MaxPasswordLen {
		return append(errs, latchkey.FieldError{Field: field, Message: passwordRuleText})
	}
	if password.IsCommon(pw) {
		return append(errs, latchkey.FieldError{Field: field, Message: commonRuleText})
	}
	return errs
}
