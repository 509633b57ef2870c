package password

import (
	"context"
	"encoding/base64"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// testParams keep tests fast; DefaultParams are used in TestDefaultParams
// and the benchmarks.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// recv waits for one value from ch, failing the test if none comes in time.
// The deadline only turns a hang into a failure; no assertion depends on it.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// holdInside makes the first argon2 run in h block until release is called
// (or the test ends); later runs pass straight through, so a broken gate
// shows up as a wrong answer rather than a hang. Every run reports its
// parameters on entered.
func holdInside(t *testing.T, h *Hasher) (entered chan Params, release func()) {
	entered = make(chan Params, 64)
	gate := make(chan struct{})
	release = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	var runs atomic.Int32
	h.idKey = func(pw, salt []byte, tm, m uint32, threads uint8, keyLen uint32) []byte {
		entered <- Params{Memory: m, Time: tm, Threads: threads, SaltLen: uint32(len(salt)), KeyLen: keyLen}
		if runs.Add(1) == 1 {
			<-gate
		}
		return argon2.IDKey(pw, salt, tm, m, threads, keyLen)
	}
	return entered, release
}

// testCtx bounds a call that should not wait, so that a gate that leaks
// tokens fails the test instead of hanging it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// bounded runs f and returns its error, failing the test if f blocks.
func bounded(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	return recv(t, done, "a call that should not block")
}

func mustHash(t *testing.T, h *Hasher, pw string) string {
	t.Helper()
	phc, err := h.Hash(testCtx(t), pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return phc
}

func mustVerify(t *testing.T, h *Hasher, pw, phc string) bool {
	t.Helper()
	ok, err := h.Verify(testCtx(t), pw, phc)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return ok
}

func TestRoundTrip(t *testing.T) {
	h := New(testParams, 0)
	phc := mustHash(t, h, "correct horse battery staple")

	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("Hash = %q, want prefix $argon2id$v=19$m=64,t=1,p=1$", phc)
	}
	if !mustVerify(t, h, "correct horse battery staple", phc) {
		t.Error("Verify(right password) = false")
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "correct horse battery staple ", "Correct horse battery staple"} {
		if mustVerify(t, h, wrong, phc) {
			t.Errorf("Verify(%q) = true", wrong)
		}
	}
	if other := mustHash(t, h, "correct horse battery staple"); other == phc {
		t.Error("two hashes of one password are equal: salt is not random")
	}
}

func TestDefaultParams(t *testing.T) {
	if DefaultParams != (Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}) {
		t.Fatalf("DefaultParams = %+v", DefaultParams)
	}
	h := New(DefaultParams, 0)
	phc := mustHash(t, h, "hunter2")
	p, salt, key, err := parsePHC(phc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") || p != DefaultParams || len(salt) != 16 || len(key) != 32 {
		t.Errorf("Hash = %q, parsed %+v", phc, p)
	}
	if !mustVerify(t, h, "hunter2", phc) || mustVerify(t, h, "hunter3", phc) {
		t.Error("Verify gives the wrong answer under DefaultParams")
	}
	if h.NeedsRehash(phc) {
		t.Error("NeedsRehash of a fresh hash = true")
	}
}

// TestKnownAnswer checks our encoding against argon2.IDKey called directly,
// with parameters that are all different so that swapped arguments show.
func TestKnownAnswer(t *testing.T) {
	p := Params{Memory: 64, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 24}
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte("correct horse"), salt, 3, 64, 2, 24)
	want := "$argon2id$v=19$m=64,t=3,p=2$" +
		base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(key)

	h := New(p, 1)
	got, err := h.hashWithSalt(context.Background(), "correct horse", salt)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("hashWithSalt = %q\nwant          %q", got, want)
	}
	if !mustVerify(t, New(testParams, 1), "correct horse", want) {
		t.Error("Verify(known answer) = false")
	}
}

// TestReferenceVector verifies the argon2id vector of the reference
// implementation (phc-winner-argon2 test.c: "password", "somesalt",
// t=2, m=64 MiB, p=1).
func TestReferenceVector(t *testing.T) {
	const ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	h := New(testParams, 1)
	if !mustVerify(t, h, "password", ref) {
		t.Error("Verify(reference vector) = false")
	}
	if mustVerify(t, h, "Password", ref) {
		t.Error("Verify(wrong password, reference vector) = true")
	}
}

func TestMalformed(t *testing.T) {
	const (
		salt = "c29tZXNhbHRzb21lc2FsdA"                      // 16 bytes
		key  = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY" // 32 bytes
	)
	valid := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	if _, _, _, err := parsePHC(valid); err != nil {
		t.Fatalf("the valid base case is rejected: %v", err)
	}
	tests := []struct{ name, phc string }{
		{"empty", ""},
		{"no leading $", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"bcrypt", "$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"version missing", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"version 019", "$argon2id$v=019$m=64,t=1,p=1$" + salt + "$" + key},
		{"memory 4 GiB", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key},
		{"memory above max", "$argon2id$v=19$m=65537,t=1,p=1$" + salt + "$" + key},
		{"memory overflows uint32", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key},
		{"memory below 8 per lane", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key},
		{"memory zero", "$argon2id$v=19$m=0,t=1,p=1$" + salt + "$" + key},
		{"time 1000", "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key},
		{"time 0", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"threads 0", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"threads 17", "$argon2id$v=19$m=256,t=1,p=17$" + salt + "$" + key},
		{"threads overflow uint8", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{"hex", "$argon2id$v=19$m=0x40,t=1,p=1$" + salt + "$" + key},
		{"empty value", "$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key},
		{"params reordered", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"param missing", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=64,t=1,p=1,keyid=AA$" + salt + "$" + key},
		{"space in params", "$argon2id$v=19$m=64, t=1,p=1$" + salt + "$" + key},
		{"salt missing", "$argon2id$v=19$m=64,t=1,p=1$" + key},
		{"salt empty", "$argon2id$v=19$m=64,t=1,p=1$$" + key},
		{"salt 4 bytes", "$argon2id$v=19$m=64,t=1,p=1$c29tZQ$" + key},
		{"salt 65 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 87) + "$" + key},
		{"key empty", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"key 8 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$MDEyMzQ1Njc"},
		{"key 65 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 87)},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"url-safe alphabet", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.ReplaceAll(key, "M", "-")},
		{"non-zero trailing bits", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdB$" + key},
		{"newline inside base64", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRz\nb21lc2FsdA$" + key},
		{"trailing newline", valid + "\n"},
		{"trailing $", valid + "$"},
		{"leading space", " " + valid},
		{"too long", valid + strings.Repeat("A", maxPHCLen)},
	}
	h := New(testParams, 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := parsePHC(tt.phc); !errors.Is(err, ErrMalformed) {
				t.Errorf("parsePHC: err = %v, want ErrMalformed", err)
			}
			ok, err := h.Verify(context.Background(), "password", tt.phc)
			if ok || !errors.Is(err, ErrMalformed) {
				t.Errorf("Verify = %v, %v; want false, ErrMalformed", ok, err)
			}
			if !h.NeedsRehash(tt.phc) {
				t.Error("NeedsRehash = false")
			}
		})
	}
}

// TestPerHashParams: a hash verifies with the parameters it carries, not the
// verifying Hasher's.
func TestPerHashParams(t *testing.T) {
	a := New(testParams, 1)
	b := New(Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 24, KeyLen: 16}, 1)
	fromA, fromB := mustHash(t, a, "pw-a"), mustHash(t, b, "pw-b")

	if !mustVerify(t, b, "pw-a", fromA) || !mustVerify(t, a, "pw-b", fromB) {
		t.Fatal("a hash made with other params does not verify")
	}
	if mustVerify(t, b, "pw-b", fromA) || mustVerify(t, a, "pw-a", fromB) {
		t.Fatal("a wrong password verifies")
	}

	// The derivation really ran with the stored params.
	var used Params
	a.idKey = func(pw, salt []byte, tm, m uint32, th uint8, kl uint32) []byte {
		used = Params{Memory: m, Time: tm, Threads: th, SaltLen: uint32(len(salt)), KeyLen: kl}
		return argon2.IDKey(pw, salt, tm, m, th, kl)
	}
	mustVerify(t, a, "pw-b", fromB)
	if used != b.Params() {
		t.Errorf("Verify derived with %+v, want the stored %+v", used, b.Params())
	}
}

func TestNeedsRehash(t *testing.T) {
	cur := Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}
	h := New(cur, 1)
	with := func(f func(*Params)) Params { p := cur; f(&p); return p }
	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same", cur, false},
		{"less memory", with(func(p *Params) { p.Memory = 64 }), true},
		{"fewer passes", with(func(p *Params) { p.Time = 1 }), true},
		{"shorter salt", with(func(p *Params) { p.SaltLen = 8 }), true},
		{"shorter key", with(func(p *Params) { p.KeyLen = 16 }), true},
		{"fewer threads", with(func(p *Params) { p.Threads = 1 }), false},
		{"more threads", with(func(p *Params) { p.Threads = 4 }), false},
		{"more memory", with(func(p *Params) { p.Memory = 256 }), false},
		{"stronger everywhere", Params{Memory: 256, Time: 3, Threads: 2, SaltLen: 32, KeyLen: 64}, false},
		{"more memory, fewer passes", with(func(p *Params) { p.Memory = 256; p.Time = 1 }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phc := mustHash(t, New(tt.p, 1), "pw")
			if got := h.NeedsRehash(phc); got != tt.want {
				t.Errorf("NeedsRehash(%s) = %v, want %v", phc, got, tt.want)
			}
		})
	}
	if !h.NeedsRehash("not a hash") {
		t.Error("NeedsRehash(malformed) = false")
	}
}

func TestGateBusy(t *testing.T) {
	ctx := context.Background()
	h := New(testParams, 1)
	phc := mustHash(t, h, "pw")
	const maxWait = 10 * time.Millisecond
	h.SetMaxWait(maxWait)
	entered, release := holdInside(t, h)

	first := make(chan error, 1)
	go func() { _, err := h.Hash(ctx, "first"); first <- err }()
	recv(t, entered, "the first Hash to enter the gate")

	start := time.Now()
	if err := bounded(t, func() error { _, err := h.Hash(ctx, "second"); return err }); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash with the gate full: err = %v, want ErrBusy", err)
	}
	if waited := time.Since(start); waited < maxWait {
		t.Errorf("Hash gave up after %v, before MaxWait %v", waited, maxWait)
	}
	if err := bounded(t, func() error { _, err := h.Verify(ctx, "pw", phc); return err }); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify with the gate full: err = %v, want ErrBusy", err)
	}
	if err := bounded(t, func() error { return h.VerifyDummy(ctx, "pw") }); !errors.Is(err, ErrBusy) {
		t.Errorf("VerifyDummy with the gate full: err = %v, want ErrBusy", err)
	}
	if n := h.Derived(); n != 1 {
		t.Errorf("Derived = %d after one hash and three calls refused at the gate, want 1", n)
	}
	// A malformed hash is rejected without queueing.
	if _, err := h.Verify(ctx, "pw", "$argon2id$v=19$m=1,t=1,p=1$$"); !errors.Is(err, ErrMalformed) {
		t.Errorf("Verify(malformed) with the gate full: err = %v, want ErrMalformed", err)
	}

	// A done context fails at once, before and instead of waiting.
	h.SetMaxWait(0)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := bounded(t, func() error { _, err := h.Hash(cancelled, "pw"); return err }); err != context.Canceled {
		t.Errorf("Hash with a cancelled ctx: err = %v, want context.Canceled", err)
	}
	expired, cancel2 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel2()
	if err := bounded(t, func() error { _, err := h.Verify(expired, "pw", phc); return err }); err != context.DeadlineExceeded {
		t.Errorf("Verify with an expired ctx: err = %v, want context.DeadlineExceeded", err)
	}

	// Cancelling while waiting, with no MaxWait, ends the wait.
	waiting := make(chan struct{}, 1)
	h.waiting = func() { waiting <- struct{}{} }
	waitCtx, cancelWait := context.WithCancel(ctx)
	third := make(chan error, 1)
	go func() { _, err := h.Hash(waitCtx, "third"); third <- err }()
	recv(t, waiting, "the third Hash to wait at the gate")
	cancelWait()
	if err := recv(t, third, "the third Hash to return"); err != context.Canceled {
		t.Errorf("Hash cancelled while waiting: err = %v, want context.Canceled", err)
	}

	release()
	if err := recv(t, first, "the first Hash to finish"); err != nil {
		t.Errorf("first Hash: %v", err)
	}
	// Every exit released its token: the gate is free again.
	if len(h.gate) != 0 {
		t.Errorf("%d tokens left in the gate", len(h.gate))
	}
	h.SetMaxWait(maxWait)
	if _, err := h.Hash(ctx, "after"); err != nil {
		t.Errorf("Hash after the gate emptied: %v", err)
	}
}

// TestGateReleased: every way out of a call gives its token back.
func TestGateReleased(t *testing.T) {
	h := New(testParams, 1)
	h.SetMaxWait(time.Second)
	ctx := context.Background()
	for i := range 3 {
		phc, err := h.Hash(ctx, "pw")
		if err != nil {
			t.Fatalf("Hash #%d: %v", i, err)
		}
		for _, pw := range []string{"pw", "wrong"} {
			if _, err := h.Verify(ctx, pw, phc); err != nil {
				t.Fatalf("Verify #%d: %v", i, err)
			}
		}
		if err := h.VerifyDummy(ctx, "pw"); err != nil {
			t.Fatalf("VerifyDummy #%d: %v", i, err)
		}
		if len(h.gate) != 0 {
			t.Fatalf("after round %d, %d tokens held", i, len(h.gate))
		}
	}
}

// TestDoneContext: a context that is already done fails even with the gate
// free, without running argon2: nobody is waiting for the answer.
func TestDoneContext(t *testing.T) {
	h := New(testParams, 1)
	phc := mustHash(t, h, "pw")
	h.idKey = func(pw, salt []byte, tm, m uint32, th uint8, kl uint32) []byte {
		t.Error("argon2 ran for a done context")
		return argon2.IDKey(pw, salt, tm, m, th, kl)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); err != context.Canceled {
		t.Errorf("Hash: err = %v, want context.Canceled", err)
	}
	if ok, err := h.Verify(ctx, "pw", phc); ok || err != context.Canceled {
		t.Errorf("Verify = %v, %v; want false, context.Canceled", ok, err)
	}
	if err := h.VerifyDummy(ctx, "pw"); err != context.Canceled {
		t.Errorf("VerifyDummy: err = %v, want context.Canceled", err)
	}
}

// TestGateBound starts many hashes and verifications against a gate of n
// and holds the ones inside until every caller is either inside or queued;
// at that moment exactly n may be inside.
func TestGateBound(t *testing.T) {
	const n, callers = 3, 12
	h := New(testParams, n)
	phc := mustHash(t, h, "pw")

	var active, peak atomic.Int32
	entered := make(chan struct{}, callers)
	queued := make(chan struct{}, callers)
	release := make(chan struct{})
	h.waiting = func() { queued <- struct{}{} }
	h.idKey = func(pw, salt []byte, tm, m uint32, th uint8, kl uint32) []byte {
		now := active.Add(1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		entered <- struct{}{}
		<-release
		active.Add(-1)
		return argon2.IDKey(pw, salt, tm, m, th, kl)
	}

	ctx := context.Background()
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			var err error
			switch i % 3 {
			case 0:
				_, err = h.Hash(ctx, "pw")
			case 1:
				_, err = h.Verify(ctx, "pw", phc)
			case 2:
				err = h.VerifyDummy(ctx, "pw")
			}
			errs <- err
		})
	}

	inside, waiting := 0, 0
	for inside+waiting < callers {
		select {
		case <-entered:
			inside++
		case <-queued:
			waiting++
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out: %d inside, %d queued of %d", inside, waiting, callers)
		}
	}
	if inside != n || waiting != callers-n || active.Load() != n {
		t.Errorf("%d inside (active %d), %d queued; want %d inside, %d queued",
			inside, active.Load(), waiting, n, callers-n)
	}

	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("caller failed: %v", err)
		}
	}
	if p := peak.Load(); p != n {
		t.Errorf("peak concurrency %d, want %d", p, n)
	}
}

// TestVerifyDummy: the dummy verification runs one real derivation with the
// Hasher's params, exactly as Verify of one of its own hashes does.
func TestVerifyDummy(t *testing.T) {
	p := Params{Memory: 96, Time: 2, Threads: 2, SaltLen: 12, KeyLen: 20}
	h := New(p, 1)
	phc := mustHash(t, h, "pw")
	var calls []Params
	h.idKey = func(pw, salt []byte, tm, m uint32, th uint8, kl uint32) []byte {
		calls = append(calls, Params{Memory: m, Time: tm, Threads: th, SaltLen: uint32(len(salt)), KeyLen: kl})
		return argon2.IDKey(pw, salt, tm, m, th, kl)
	}
	if err := h.VerifyDummy(context.Background(), "pw"); err != nil {
		t.Fatalf("VerifyDummy: %v", err)
	}
	mustVerify(t, h, "wrong", phc)
	if len(calls) != 2 || calls[0] != p || calls[1] != p {
		t.Errorf("derivations %+v, want two with %+v", calls, p)
	}
	if h.NeedsRehash(h.dummy) {
		t.Error("the dummy hash is not a well-formed hash with h's params")
	}
	for _, pw := range []string{"", "pw", "password"} {
		if mustVerify(t, h, pw, h.dummy) {
			t.Errorf("the dummy hash matches %q", pw)
		}
	}
}

func TestNew(t *testing.T) {
	if got := cap(New(testParams, 0).gate); got != runtime.GOMAXPROCS(0) {
		t.Errorf("New(p, 0): gate of %d, want GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
	if got := cap(New(testParams, -1).gate); got != runtime.GOMAXPROCS(0) {
		t.Errorf("New(p, -1): gate of %d, want GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
	if got := cap(New(testParams, 5).gate); got != 5 {
		t.Errorf("New(p, 5): gate of %d", got)
	}
	if a, b := New(testParams, 1), New(testParams, 1); a.dummy == b.dummy {
		t.Error("two Hashers share a dummy hash")
	}

	with := func(f func(*Params)) Params { p := testParams; f(&p); return p }
	for name, p := range map[string]Params{
		"zero":         {},
		"no threads":   with(func(p *Params) { p.Threads = 0 }),
		"no time":      with(func(p *Params) { p.Time = 0 }),
		"huge memory":  with(func(p *Params) { p.Memory = MaxMemory + 1 }),
		"tiny memory":  with(func(p *Params) { p.Memory = 7 }),
		"short salt":   with(func(p *Params) { p.SaltLen = 4 }),
		"short key":    with(func(p *Params) { p.KeyLen = 8 }),
		"long key":     with(func(p *Params) { p.KeyLen = MaxKeyLen + 1 }),
		"many threads": with(func(p *Params) { p.Threads = MaxThreads + 1; p.Memory = 8 * 17 }),
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", p)
				}
			}()
			New(p, 1)
		})
	}
}

func BenchmarkHash(b *testing.B) {
	h := New(DefaultParams, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := New(DefaultParams, 0)
	ctx := context.Background()
	phc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := h.Verify(ctx, "correct horse battery staple", phc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
