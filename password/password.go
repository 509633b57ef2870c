// Package password hashes and verifies passwords with argon2id, stored as PHC
// strings ($argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>).
//
// Each argon2id computation holds Params.Memory of RAM for its whole run, so a
// Hasher lets at most a fixed number run at once (its gate): hundreds of
// simultaneous sign-ins queue instead of exhausting memory. A caller that
// waits too long for the gate gets ErrBusy, which the HTTP layer answers with
// 503 and Retry-After.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// ErrBusy is returned when the gate could not be entered within the Hasher's
// maximum wait.
var ErrBusy = errors.New("password: hashing queue is full")

// ErrMalformed is returned (wrapped, with detail) for a stored hash that is
// not a well-formed argon2id v19 PHC string with parameters within bounds.
var ErrMalformed = errors.New("password: malformed hash")

// A Hasher hashes and verifies passwords, running at most a fixed number of
// argon2id computations at once. Its methods are safe for concurrent use.
// Create one with New; the zero Hasher is not usable.
type Hasher struct {
	params  Params
	gate    chan struct{} // one token per running computation
	maxWait atomic.Int64  // time.Duration; <= 0 waits until ctx is done
	dummy   string        // a hash with h's params that no password matches

	derived atomic.Uint64 // argon2id runs completed

	// Test hooks. idKey is argon2.IDKey; waiting, if set, is called when a
	// caller finds the gate full and starts to wait.
	idKey   func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
	waiting func()
}

// New returns a Hasher that hashes with p and lets at most concurrency
// argon2id computations run at once; concurrency <= 0 means
// runtime.GOMAXPROCS(0). The Hasher waits for the gate until the caller's
// context is done; see SetMaxWait to bound the wait.
//
// New panics if p is outside the bounds (MaxMemory, MaxTime, ...): the
// parameters are configuration, and a Hasher must be able to verify what it
// hashes.
func New(p Params, concurrency int) *Hasher {
	if err := p.validate(); err != nil {
		panic("password: New: invalid params: " + err.Error())
	}
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	// The dummy hash for VerifyDummy needs no argon2 run: verifying against
	// it costs one derivation with p whatever its key bytes are, and random
	// key bytes make sure no password matches.
	salt, key := make([]byte, p.SaltLen), make([]byte, p.KeyLen)
	rand.Read(salt)
	rand.Read(key)
	return &Hasher{
		params: p,
		gate:   make(chan struct{}, concurrency),
		dummy:  encodePHC(p, salt, key),
		idKey:  argon2.IDKey,
	}
}

// SetMaxWait bounds how long a call waits for the gate: after d it returns
// ErrBusy. d <= 0, the default, waits until the context is done. It is safe
// to call while the Hasher is in use.
func (h *Hasher) SetMaxWait(d time.Duration) { h.maxWait.Store(int64(d)) }

// Params returns the parameters h hashes with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of password under a fresh random salt. It
// fails only with ErrBusy or the context's error.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt) // never fails; a broken system RNG crashes the program
	return h.hashWithSalt(ctx, password, salt)
}

func (h *Hasher) hashWithSalt(ctx context.Context, password string, salt []byte) (string, error) {
	key, err := h.derive(ctx, h.params, password, salt)
	if err != nil {
		return "", err
	}
	return encodePHC(h.params, salt, key), nil
}

// Verify reports whether password matches phc. It derives the key with the
// parameters stored in phc, not h's, so hashes made before a change of
// parameters keep verifying (see NeedsRehash), and compares in constant
// time. A wrong password is (false, nil); a malformed phc is an error
// wrapping ErrMalformed, returned without waiting for the gate.
func (h *Hasher) Verify(ctx context.Context, password, phc string) (bool, error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	got, err := h.derive(ctx, p, password, salt)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy does the work of Verify against a hash made with h's
// parameters, which no password matches, and returns only the errors Verify
// can (ErrBusy, the context's error). Call it when sign-in names an unknown
// account, so that costs what a wrong password costs.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, password, h.dummy)
	return err
}

// NeedsRehash reports whether phc was made with weaker parameters than h's:
// less memory, fewer passes, or a shorter salt or key. Threads are not
// compared: more lanes change the latency, not an attacker's cost. A
// malformed phc needs rehashing too. Call it after a successful Verify and,
// if true, store the result of Hash.
func (h *Hasher) NeedsRehash(phc string) bool {
	p, _, _, err := parsePHC(phc)
	if err != nil {
		return true
	}
	return p.Memory < h.params.Memory ||
		p.Time < h.params.Time ||
		p.SaltLen < h.params.SaltLen ||
		p.KeyLen < h.params.KeyLen
}

// derive runs argon2id with p inside the gate.
func (h *Hasher) derive(ctx context.Context, p Params, password string, salt []byte) ([]byte, error) {
	// Every hash and every check sees the normalised form, so no caller can
	// forget it; normalised before the gate, so a slot is held only for
	// the hashing itself.
	pw := []byte(Normalize(password))
	if err := h.enter(ctx); err != nil {
		return nil, err
	}
	defer h.leave()
	key := h.idKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	h.derived.Add(1)
	return key, nil
}

// Derived is how many argon2id derivations h has run (hashes, checks and
// dummy checks): the figure that bounds sign-in throughput.
func (h *Hasher) Derived() uint64 { return h.derived.Load() }

// enter takes a token from the gate. A context that is already done fails
// even when the gate is free: nobody is waiting for the answer.
func (h *Hasher) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.gate <- struct{}{}:
		return nil
	default:
	}
	if h.waiting != nil {
		h.waiting()
	}
	var timeout <-chan time.Time
	if d := time.Duration(h.maxWait.Load()); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case h.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout:
		return ErrBusy
	}
}

func (h *Hasher) leave() { <-h.gate }
