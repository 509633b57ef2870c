package latchkey

import (
	"context"
	"time"
)

// TokenPurpose is what a one-time token may be used for. A token of one
// purpose is never accepted for another. The "your address is being
// changed" notice to the old address carries no token, so it has no
// purpose here.
type TokenPurpose string

// The purposes of one-time tokens.
const (
	PurposeReset       TokenPurpose = "reset"        // password reset
	PurposeVerifyEmail TokenPurpose = "verify_email" // email verification
	PurposeEmailChange TokenPurpose = "email_change" // confirming a new address
)

// Valid reports whether p is one of the purposes above.
func (p TokenPurpose) Valid() bool {
	switch p {
	case PurposeReset, PurposeVerifyEmail, PurposeEmailChange:
		return true
	}
	return false
}

// MaxCodeAttempts is how many wrong codes a token takes: the last of them
// kills the whole token, link and code alike.
const MaxCodeAttempts = 5

// OneTimeToken is a one-time token as stored: a link secret and a 6-digit
// code mailed together, either of which uses the token once. Only their
// digests are kept: LinkHash is the SHA-256 of the link's 32 secret bytes,
// CodeMAC an HMAC-SHA256 of the code under a server key (auth computes
// both). A token is live while UsedAt is zero, ExpiresAt is ahead and
// Attempts is below MaxCodeAttempts; using it, killing it and its last
// wrong code all set UsedAt.
type OneTimeToken struct {
	ID      string
	UserID  string
	Purpose TokenPurpose
	// Email is the address the token was mailed to: the user's address,
	// or for PurposeEmailChange the new address that confirming sets.
	Email     string
	LinkHash  []byte
	CodeMAC   []byte
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// Live reports whether t can still be used at now.
func (t *OneTimeToken) Live(now time.Time) bool {
	return t.UsedAt.IsZero() && now.Before(t.ExpiresAt) && t.Attempts < MaxCodeAttempts
}

// TokenChange is a change to the one-time tokens made in the same
// transaction as another change of the store (see WithTokenChange), or
// alone (OneTimeTokenService.ApplyTokenChange). Its parts run in this
// order:
//
//   - Use: the token with this ID is used. When it is no longer live at
//     Now (used by someone else meanwhile, killed, expired, dead of wrong
//     codes), nothing is committed, the other change included, and the
//     store answers EINVALIDONETIME. This is how a password reset and its
//     token's use happen together or not at all, and how, of two requests
//     with one token, exactly one wins.
//   - KillUser: every live token of this user is killed (after a password
//     change or reset), and so is every live mfa_token of the user: the
//     second step of a sign-in with the old password.
//   - KillEmail (with KillEmailUser): the live tokens of that user that
//     were mailed to this address are killed (after an email change, the
//     old address). The address is compared as stored.
//   - Issue: this token is stored (its ID and CreatedAt filled in when
//     empty) and the user's older live tokens of its purpose are killed.
//     With Cooldown set, when the user has a token of that purpose created
//     after Now - Cooldown (live or not), nothing is committed, the other
//     change and the mails included, and Applied stays false: the caller
//     learns that it sent nothing, and answers as if it had.
//
// The store sets Applied once the transaction commits; a change already
// applied is not applied again, so one context may carry it through two
// store calls. When the other change changes nothing (a compare-and-swap
// that lost), the tokens are left as they were too.
type TokenChange struct {
	Now           time.Time
	Use           string
	KillUser      string
	KillEmailUser string
	KillEmail     string
	Issue         *OneTimeToken
	Cooldown      time.Duration
	// IfEmail, when set, issues only while the user's address is still
	// this one (holding the user's row until the commit): a token mailed
	// to an address the user just left would escape the change's kill.
	// Otherwise nothing is committed and Applied stays false.
	IfEmail string
	Applied bool
}

type tokenChangeKey struct{}

// WithTokenChange asks the store to make ch in the same transaction as the
// change made with the returned context, as WithAudit does for an audit
// event: both are committed, or neither.
func WithTokenChange(ctx context.Context, ch *TokenChange) context.Context {
	return context.WithValue(ctx, tokenChangeKey{}, ch)
}

// TokenChangeFrom returns the change WithTokenChange attached, or nil.
func TokenChangeFrom(ctx context.Context) *TokenChange {
	ch, _ := ctx.Value(tokenChangeKey{}).(*TokenChange)
	return ch
}

// OneTimeTokenService stores one-time tokens. Every lookup that fails, for
// whatever reason (no such token, another purpose or user, used, killed,
// expired, too many wrong codes), is the same EINVALIDONETIME error, whose
// message does not say which.
type OneTimeTokenService interface {
	// FindOneTimeTokenByLink returns the live token of purpose p whose
	// link hash is linkHash, without using it: a TokenChange.Use then
	// uses it with another change.
	FindOneTimeTokenByLink(ctx context.Context, p TokenPurpose, linkHash []byte, now time.Time) (*OneTimeToken, error)
	// FindSpentOneTimeToken returns the token of purpose p whose link
	// hash is linkHash whatever its state (used, killed, expired), until
	// it is pruned: an idempotent verification asks whose a spent link
	// was.
	FindSpentOneTimeToken(ctx context.Context, p TokenPurpose, linkHash []byte) (*OneTimeToken, error)
	// CheckOneTimeTokenCode returns the user's live token of purpose p
	// when codeMAC is its code's MAC (compared in constant time), without
	// using it. A wrong MAC counts one attempt against that token, and is
	// committed at once, whatever becomes of the caller's request.
	CheckOneTimeTokenCode(ctx context.Context, userID string, p TokenPurpose, codeMAC []byte, now time.Time) (*OneTimeToken, error)
	// ApplyTokenChange makes ch alone, with the audit event ctx carries.
	ApplyTokenChange(ctx context.Context, ch *TokenChange) error
	// PruneOneTimeTokens deletes the tokens that expired before before
	// (used and killed ones too) and returns how many.
	PruneOneTimeTokens(ctx context.Context, before time.Time) (int64, error)
}
