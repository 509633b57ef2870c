package verify

import (
	"crypto/sha256"
	"math/rand/v2"
	"sync"
	"time"
)

// tokenCache remembers verified tokens, keyed by the SHA-256 of their text so
// that no bearer token is held in memory longer than its request needs. It
// holds at most max entries; an entry ends at its token's exp.
//
// Entries sit in a slice with a map from key to position, so that a victim
// can be picked at random in O(1) when the cache is full: of two random
// entries, the one expiring first goes (an expired one, when there is one,
// is then the likeliest to go). One mutex guards it all: the critical
// sections are a map lookup or two, far below the cost of a verification.
type tokenCache struct {
	mu      sync.Mutex
	max     int
	index   map[[sha256.Size]byte]int // key → position in entries
	entries []cacheEntry
}

type cacheEntry struct {
	key    [sha256.Size]byte
	claims *Claims // read-only once cached
	// revGen is the Config.Revocations generation at which the claims were
	// last found in none of its revocations (0 without a set): while the
	// set's generation is still that, no revocation has come since, and a
	// hit need not look the token up again.
	revGen uint64
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, index: make(map[[sha256.Size]byte]int)}
}

// cacheKey hashes token. A token that fits is copied to the stack first:
// converting the string to []byte would allocate, which is a third of a
// cache hit's cost.
func cacheKey(token string) [sha256.Size]byte {
	var buf [1024]byte
	if len(token) <= len(buf) {
		n := copy(buf[:], token)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(token))
}

// get returns the claims cached under key if their exp is still ahead of
// now, and whether they were found unrevoked at revocation generation gen
// (see cacheEntry.revGen). An entry found expired is dropped.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time, gen uint64) (cl *Claims, seen, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[key]
	if !ok {
		return nil, false, false
	}
	e := &c.entries[i]
	if !now.Before(e.claims.ExpiresAt) {
		c.remove(i)
		return nil, false, false
	}
	return e.claims, e.revGen == gen, true
}

// seen records that the claims cached under key were found unrevoked at
// revocation generation gen, unless the entry has gone or holds other
// claims since.
func (c *tokenCache) seen(key [sha256.Size]byte, cl *Claims, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[key]; ok && c.entries[i].claims == cl {
		c.entries[i].revGen = gen
	}
}

// put caches claims under key, found unrevoked at revocation generation
// gen, unless they are already expired at now, evicting an entry when the
// cache is full.
func (c *tokenCache) put(key [sha256.Size]byte, cl *Claims, now time.Time, gen uint64) {
	if !now.Before(cl.ExpiresAt) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[key]; ok {
		c.entries[i].claims, c.entries[i].revGen = cl, gen
		return
	}
	if len(c.entries) < c.max {
		c.index[key] = len(c.entries)
		c.entries = append(c.entries, cacheEntry{key: key, claims: cl, revGen: gen})
		return
	}
	i, j := rand.IntN(len(c.entries)), rand.IntN(len(c.entries))
	if c.entries[j].claims.ExpiresAt.Before(c.entries[i].claims.ExpiresAt) {
		i = j
	}
	delete(c.index, c.entries[i].key)
	c.entries[i] = cacheEntry{key: key, claims: cl, revGen: gen}
	c.index[key] = i
}

// remove drops entry i by moving the last entry into its place.
func (c *tokenCache) remove(i int) {
	delete(c.index, c.entries[i].key)
	last := len(c.entries) - 1
	if i != last {
		c.entries[i] = c.entries[last]
		c.index[c.entries[i].key] = i
	}
	c.entries[last] = cacheEntry{} // let the claims be collected
	c.entries = c.entries[:last]
}

// len reports the number of entries, expired ones included.
func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
