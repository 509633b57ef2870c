package latchkey

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"time"
	"unicode/utf8"
)

// Page sizes of every list (tasks, users, audit events): the size a list
// has when the caller names none, and the most a caller may ask for.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// Cursor is the keyset position after which a list continues: the time and
// id of the last item returned (tasks, users and audit events alike).
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Encode turns a keyset position into the opaque string clients pass back.
func (c Cursor) Encode() string {
	b := binary.BigEndian.AppendUint64(nil, uint64(c.CreatedAt.UnixNano()))
	b = append(b, c.ID...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a cursor made by Encode; EINVALID when it is not one.
func DecodeCursor(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	// Every id is text without NUL (which PostgreSQL's TEXT cannot hold).
	if err != nil || len(b) < 9 || len(b) > 8+64 || !utf8.Valid(b[8:]) || bytes.IndexByte(b[8:], 0) >= 0 {
		return nil, Errorf(EINVALID, "bad cursor")
	}
	return &Cursor{
		CreatedAt: time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))).UTC(),
		ID:        string(b[8:]),
	}, nil
}
