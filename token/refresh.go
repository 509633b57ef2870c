package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// refreshBytes is the entropy of a refresh token: 256 bits, twice what
// rand.Text gives.
const refreshBytes = 32

// NewRefresh returns a fresh random refresh token and a per-session key from
// which its successors are derived.
func NewRefresh() (token string, key []byte) {
	b := make([]byte, refreshBytes)
	rand.Read(b) // never returns an error (crypto/rand, Go 1.24+)
	key = make([]byte, 32)
	rand.Read(key)
	return base64.RawURLEncoding.EncodeToString(b), key
}

// HashRefresh is what the store keeps instead of a refresh token. The token
// has 256 bits of entropy, so a fast unsalted hash is enough: nothing can be
// guessed from it, and lookups by hash stay indexable.
func HashRefresh(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NextRefresh derives the token that replaces token at rotation. Deriving
// instead of drawing a new random token lets the server answer a second
// refresh of the same token within the grace window with the same new token
// (two tabs converge) without ever storing a token in plain text: the store
// holds only key and hashes, and the next token cannot be computed without
// the current one.
func NextRefresh(key []byte, token string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
