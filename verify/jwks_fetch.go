package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/MicahParks/jwkset"
)

// RemoteJWKS's fetches: loop runs them all, one at a time and numbered, and
// a token with an unknown kid waits for the first one that starts after it
// came (await).

// await asks loop for fetch number need and waits until it has ended, the
// request's ctx ends or the source stops.
func (r *remoteJWKS) await(ctx context.Context, need uint64) error {
	r.mu.Lock()
	r.wanted = max(r.wanted, need)
	r.mu.Unlock()
	select {
	case r.poke <- struct{}{}:
	default: // loop has a poke waiting already
	}
	for {
		r.mu.Lock()
		done, ended := r.finished >= need, r.ended
		r.mu.Unlock()
		if done {
			break
		}
		select {
		case <-ended:
		case <-ctx.Done():
			return fmt.Errorf("verify: waiting for the JWKS: %w", ctx.Err())
		case <-r.ctx.Done():
			return errJWKSClosed
		}
	}
	if r.ctx.Err() != nil {
		return errJWKSClosed
	}
	return nil
}

// status returns the number of the next fetch to start, and the outcome
// of the fetches so far.
func (r *remoteJWKS) status() (next uint64, lastOK time.Time, lastErr error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started + 1, r.lastOK, r.lastErr
}

// fetchOnce runs one numbered fetch and wakes whoever waits for it. Only
// loop calls it.
func (r *remoteJWKS) fetchOnce() {
	r.mu.Lock()
	r.started++
	r.lastStart = time.Now()
	r.mu.Unlock()
	err := r.fetch()
	if err != nil && r.ctx.Err() == nil {
		r.onError(err)
	}
	r.mu.Lock()
	r.finished = r.started
	r.lastErr = err
	if err == nil {
		r.lastOK = time.Now()
		r.failed = 0
	} else {
		r.failed++
	}
	close(r.ended)
	r.ended = make(chan struct{})
	r.mu.Unlock()
}

// fetch reads the set once. jwkset replaces the cached keys only when the
// whole answer is good, so a failure leaves the cache as it was.
func (r *remoteJWKS) fetch() error {
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	_, err := jwkset.NewStorageFromHTTP(r.url, jwkset.HTTPClientStorageOptions{
		Client:      r.client,
		Ctx:         ctx,
		HTTPTimeout: r.timeout,
		Storage:     r.store,
	})
	if err != nil {
		return fmt.Errorf("verify: fetching JWKS %s: %w", r.shown, err)
	}
	return nil
}

// loop runs every fetch: the first at once, then one every refresh
// interval (minRefetch after a failure), and one for the tokens waiting,
// no sooner than minRefetch after the previous start.
func (r *remoteJWKS) loop() {
	defer r.wg.Done()
	r.fetchOnce()
	periodic := time.NewTimer(r.next())
	defer periodic.Stop()
	demand := time.NewTimer(time.Hour)
	demand.Stop()
	defer demand.Stop()
	for r.ctx.Err() == nil {
		if wait, ok := r.demanded(); ok {
			if wait <= 0 {
				r.fetchOnce()
				periodic.Reset(r.next())
				continue
			}
			demand.Reset(wait)
		}
		select {
		case <-r.ctx.Done():
		case <-periodic.C:
			r.fetchOnce()
			periodic.Reset(r.next())
		case <-demand.C:
		case <-r.poke:
		}
		demand.Stop()
	}
}

// demanded reports whether a token waits for a fetch not yet started, and
// how long until minRefetch has passed since the latest start.
func (r *remoteJWKS) demanded() (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wanted <= r.started {
		return 0, false
	}
	return time.Until(r.lastStart.Add(r.minRefetch)), true
}

// maxRetryWait bounds the wait between retries while fetches fail.
const maxRetryWait = time.Minute

// next is the wait before the periodic fetch: the refresh interval, or
// while fetches fail minRefetch, doubled at each failure in a row up to
// maxRetryWait (or the refresh interval): an issuer that is down is asked
// soon, then less and less often.
func (r *remoteJWKS) next() time.Duration {
	r.mu.Lock()
	failed := r.failed
	r.mu.Unlock()
	if failed == 0 {
		return r.refresh
	}
	limit := min(maxRetryWait, r.refresh)
	wait := r.minRefetch
	for i := 1; i < failed && wait < limit; i++ {
		wait *= 2
	}
	return min(wait, limit)
}
