package latchkey

import "unicode/utf8"

// Limits of a task, from the contract.
const (
	MaxTaskTitleLen = 200
	MaxTaskDescLen  = 2000
)

// ValidateTaskFields checks a title (already trimmed) and a description, each
// only when present, and returns the fields at fault.
func ValidateTaskFields(title, desc *string) []FieldError {
	var errs []FieldError
	if title != nil {
		if n := utf8.RuneCountInString(*title); n < 1 || n > MaxTaskTitleLen {
			errs = append(errs, FieldError{Field: "title", Message: "must be 1 to 200 characters"})
		}
	}
	if desc != nil && utf8.RuneCountInString(*desc) > MaxTaskDescLen {
		errs = append(errs, FieldError{Field: "description", Message: "must be at most 2000 characters"})
	}
	return errs
}
