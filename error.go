package latchkey

import (
	"errors"
	"fmt"
	"time"
)

// Application error codes. They are the contract's stable "code" values; the
// HTTP layer maps each to its status in one place.
const (
	EINVALID            = "invalid_request"
	EVALIDATION         = "validation_failed"
	EMISSINGTOKEN       = "missing_token"
	EINVALIDTOKEN       = "invalid_token"
	ETOKENEXPIRED       = "token_expired"
	ETOKENREVOKED       = "token_revoked"
	EINVALIDCREDENTIALS = "invalid_credentials"
	// EMFAREQUIRED answers a right password for a user with a confirmed
	// second factor: no token yet, the second step comes first.
	EMFAREQUIRED = "mfa_required"
	EFORBIDDEN          = "forbidden"
	EACCOUNTDISABLED    = "account_disabled"
	EEMAILNOTVERIFIED   = "email_not_verified"
	ENOTFOUND           = "not_found"
	EMISDIRECTED        = "misdirected_request"
	EEMAILTAKEN         = "email_taken"
	ERATELIMITED        = "rate_limited"
	EUNAVAILABLE        = "unavailable"
	EINTERNAL           = "internal"

	// EINVALIDONETIME is a one-time link or code that uses no token. The
	// contract calls it invalid_token too, but with status 400, not the
	// 401 of a bad access or refresh token: the HTTP layer sends this code
	// as invalid_token.
	EINVALIDONETIME = "invalid_one_time_token"

	// EADMINMFA is an admin token without "mfa" in its amr on an admin
	// route, with LATCHKEY_REQUIRE_MFA_FOR_ADMINS: the contract's
	// mfa_required, but 403 (the token is good, the sign-in too weak)
	// where a sign-in's mfa_required is 401.
	EADMINMFA = "admin_mfa_required"

	// ECONFLICT: the change would break a uniqueness or a cap of the
	// store (a receiver's name taken, its 65th SSF stream): 409.
	ECONFLICT = "conflict"
)

// FieldError names one field of a request that broke a rule.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an application error: a contract code, a message safe to show the
// caller, and for validation errors the fields at fault.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// RetryAfter, when set on a rate_limited error, is how long the caller
	// should wait (sent as Retry-After).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("latchkey error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ValidationError returns a validation_failed error listing fields.
func ValidationError(fields ...FieldError) *Error {
	return &Error{Code: EVALIDATION, Message: "request failed validation", Fields: fields}
}

// ErrorCode returns the code of an application error, EINTERNAL for any
// other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the caller-safe message of an application error, or a
// generic one for any other error so that nothing internal leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
