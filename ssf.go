package latchkey

// The store of the Shared Signals (SSF 1.0) transmitter (issue 15): the
// receivers allowed to subscribe, their poll-delivery streams, and what
// each stream acknowledged of the revocation feed.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the SSF transmitter.
const (
	// MaxStreamsPerReceiver is how many streams one receiver may have (one
	// per verifier process). The store refuses the next one in the
	// transaction that would add it.
	MaxStreamsPerReceiver = 64
	// StreamInactivity is how long a stream lives without a poll: then it
	// is deleted (SSF's inactivity_timeout). TouchStream refuses a stream
	// idle that long, and PruneSSF deletes it.
	StreamInactivity = 300 * time.Second
	// MinVerificationInterval is how soon after one verification request
	// a stream may ask for the next (SSF's min_verification_interval).
	MinVerificationInterval = 10 * time.Second
	// MaxReceiverName is the longest receiver name, in characters.
	MaxReceiverName = 100
	// MaxReceiverAudience is the longest receiver audience, in bytes.
	MaxReceiverAudience = 2048
	// ReceiverSecretPrefix starts every receiver secret, so that one found
	// in a log or a repository is recognized for what it is.
	ReceiverSecretPrefix = "lkr_"
)

// Errors of the SSF store.
var (
	// ErrStreamLimit: the receiver already has MaxStreamsPerReceiver.
	ErrStreamLimit = Errorf(ECONFLICT, "a receiver may have at most %d streams; delete one first", MaxStreamsPerReceiver)
	// ErrReceiverNameTaken: another receiver has this name.
	ErrReceiverNameTaken = Errorf(ECONFLICT, "a receiver with this name exists")
)

// Receiver is a service allowed to subscribe to the revocation feed. It
// authenticates every SSF call with a bearer secret, of which the store
// keeps only the SHA-256 (the secret has full entropy: no password hash is
// needed).
type Receiver struct {
	ID string
	// Name is the operator's handle on it (latchkey receiver remove
	// --name), unique.
	Name string
	// Audience is the aud of every SET sent to it.
	Audience   string
	SecretHash []byte
	CreatedAt  time.Time
	// Streams is how many streams it has. Only ListReceivers fills it.
	Streams int
}

// StreamStatus is an SSF stream's status.
type StreamStatus string

// The statuses of SSF 1.0 §8.1.2.
const (
	StreamEnabled  StreamStatus = "enabled"
	StreamPaused   StreamStatus = "paused"
	StreamDisabled StreamStatus = "disabled"
)

// Valid reports whether s is one of the statuses above.
func (s StreamStatus) Valid() bool {
	return s == StreamEnabled || s == StreamPaused || s == StreamDisabled
}

// Stream is one poll-delivery stream of a receiver: one verifier process.
// A stream is only ever found, changed or removed through its receiver, so
// that one receiver cannot name another's.
type Stream struct {
	ID         string
	ReceiverID string
	// Description is the receiver's own text (SSF's description).
	Description string
	// EventsRequested are the event types the receiver asked for, as it
	// sent them.
	EventsRequested []string
	Status          StreamStatus
	// StatusReason is the reason of the last status change, if given.
	StatusReason string
	CreatedAt    time.Time
	// LastPollAt is when it was last polled; CreatedAt until then.
	LastPollAt time.Time

	// VerifyRequestedAt is when the receiver last asked for a
	// verification event (zero: never). VerifyPending says that event is
	// still to be acknowledged, and VerifyState is the state it echoes.
	VerifyRequestedAt time.Time
	VerifyPending     bool
	VerifyState       string
}

// Inactive reports whether the stream went without a poll for
// StreamInactivity at now: it is as good as deleted.
func (s *Stream) Inactive(now time.Time) bool {
	return now.Sub(s.LastPollAt) >= StreamInactivity
}

// SSFService stores the SSF transmitter's receivers, streams and acks.
type SSFService interface {
	// CreateReceiver stores r, filling in an empty ID and CreatedAt. It
	// answers ErrReceiverNameTaken when the name is taken. The caller
	// validates (ValidateReceiver).
	CreateReceiver(ctx context.Context, r *Receiver) error
	// FindReceiverBySecretHash returns the receiver whose secret has this
	// SHA-256, or ENOTFOUND.
	FindReceiverBySecretHash(ctx context.Context, hash []byte) (*Receiver, error)
	// ListReceivers returns every receiver by name, with its stream
	// count and without its SecretHash.
	ListReceivers(ctx context.Context) ([]*Receiver, error)
	// DeleteReceiver removes the receiver with this name, its streams and
	// their acks; ENOTFOUND when there is none.
	DeleteReceiver(ctx context.Context, name string) error

	// CreateStream stores s, filling in an empty ID and CreatedAt; an
	// empty Status is StreamEnabled and LastPollAt is CreatedAt. It
	// answers ErrStreamLimit when the receiver has MaxStreamsPerReceiver
	// (counted in the same transaction, so that concurrent creations on
	// any instance cannot pass it; the receiver's streams inactive at
	// s.CreatedAt are deleted first and do not count), ENOTFOUND when the
	// receiver does not exist, EINVALID for an unknown status.
	CreateStream(ctx context.Context, s *Stream) error
	// FindStream returns the receiver's stream id; ENOTFOUND when the
	// receiver has no such stream (another receiver's included).
	FindStream(ctx context.Context, receiverID, id string) (*Stream, error)
	// ListStreams returns the receiver's streams, oldest first.
	ListStreams(ctx context.Context, receiverID string) ([]*Stream, error)
	// UpdateStream stores s's Description, EventsRequested, Status and
	// StatusReason, if s is a stream of s.ReceiverID; ENOTFOUND otherwise,
	// EINVALID for an unknown status.
	UpdateStream(ctx context.Context, s *Stream) error
	// DeleteStream removes the receiver's stream id and its acks;
	// ENOTFOUND when the receiver has no such stream.
	DeleteStream(ctx context.Context, receiverID, id string) error
	// TouchStream records a poll of stream id at at, unless the stream
	// went StreamInactivity without one: then, as when there is no such
	// stream, it answers ENOTFOUND and the stream is as good as deleted.
	// LastPollAt never moves back.
	TouchStream(ctx context.Context, id string, at time.Time) error
	// RequestStreamVerification records the receiver's request for a
	// verification event on its stream id, with state, at now: pending
	// until AckStreamVerification. ENOTFOUND when the receiver has no
	// such stream; ERATELIMITED (with RetryAfter) within
	// MinVerificationInterval of the previous request.
	RequestStreamVerification(ctx context.Context, receiverID, id, state string, now time.Time) error
	// AckStreamVerification ends the pending verification of stream id
	// requested at requestedAt. A later request stays pending; it is no
	// error when nothing is pending.
	AckStreamVerification(ctx context.Context, id string, requestedAt time.Time) error

	// PendingRevocations returns, oldest first by (RevokedAt, ID), at
	// most limit sessions revoked at or after windowStart that stream
	// streamID has not acknowledged. A new stream has acknowledged
	// nothing: it gets the whole window, revocations older than itself
	// included.
	PendingRevocations(ctx context.Context, streamID string, windowStart time.Time, limit int) ([]RevokedSession, error)
	// AckRevocations records that stream streamID received the
	// revocations of sessionIDs, until expiresAt (past the window, when
	// they can no longer be pending). Ids that name no revoked session are
	// ignored, as are ids already acknowledged (their expiry unchanged).
	AckRevocations(ctx context.Context, streamID string, sessionIDs []string, expiresAt time.Time) error
	// PruneSSF deletes the streams not polled for StreamInactivity before
	// now, with their acks, and the acks that expired before now. It
	// returns how many streams it deleted.
	PruneSSF(ctx context.Context, now time.Time) (streams int64, err error)
}

// NewReceiverSecret returns a fresh receiver secret, ReceiverSecretPrefix
// and 32 random bytes in unpadded base64url, and its hash
// (HashReceiverSecret), which is all the store keeps.
func NewReceiverSecret() (secret string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	secret = ReceiverSecretPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashReceiverSecret(secret), nil
}

// HashReceiverSecret is the SHA-256 of a receiver secret as presented.
func HashReceiverSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// ValidateReceiver checks a new receiver's name and audience: the name one
// line of plain text of at most MaxReceiverName characters, not blank nor
// padded with spaces; the audience non-empty, at most MaxReceiverAudience
// bytes, without control characters. It answers EVALIDATION naming the
// fields at fault.
func ValidateReceiver(name, audience string) error {
	var fields []FieldError
	switch {
	case strings.TrimSpace(name) == "":
		fields = append(fields, FieldError{"name", "is required"})
	case !utf8.ValidString(name) || !PlainLine(name):
		fields = append(fields, FieldError{"name", LineRuleText})
	case utf8.RuneCountInString(name) > MaxReceiverName:
		fields = append(fields, FieldError{"name", "must be at most 100 characters"})
	case strings.TrimSpace(name) != name:
		fields = append(fields, FieldError{"name", "must not begin or end with a space"})
	}
	switch {
	case audience == "":
		fields = append(fields, FieldError{"audience", "is required"})
	case !utf8.ValidString(audience) || !PlainLine(audience):
		fields = append(fields, FieldError{"audience", LineRuleText})
	case len(audience) > MaxReceiverAudience:
		fields = append(fields, FieldError{"audience", "must be at most 2048 bytes"})
	}
	if fields != nil {
		return ValidationError(fields...)
	}
	return nil
}
