package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults for RevocationsOptions.
const (
	// DefaultRevocationsFirstSync is how long RemoteRevocations waits for
	// the feed's backlog before it returns.
	DefaultRevocationsFirstSync = 5 * time.Second
	// DefaultRevocationsTimeout bounds one call to the feed; a long poll is
	// held up to 10 s.
	DefaultRevocationsTimeout = 30 * time.Second
	// DefaultRevocationsMaxEvents is the maxEvents of each poll.
	DefaultRevocationsMaxEvents = 500
	// Retries after a failed call wait from the first to the last, doubling.
	revocationsRetryFirst = 100 * time.Millisecond
	revocationsRetryMax   = 5 * time.Second
	// maxFeedRetention bounds the latchkey_revocation_retention taken
	// from the discovery document (seconds): a week.
	maxFeedRetention = 7 * 24 * 3600
)

// DeliveryPoll is the delivery method of RFC 8936 poll delivery.
const DeliveryPoll = "urn:ietf:rfc:8936"

// RevocationsOptions tunes RemoteRevocations. Credential and Keys are
// required; zero values pick the defaults.
type RevocationsOptions struct {
	// Credential is the receiver's secret, sent as a Bearer token on every
	// call to the feed.
	Credential string
	// Keys verifies the SETs: the issuer's JWKS, as for its access tokens.
	Keys KeyFunc
	// Retain, MaxStale, StaleTokenAge and MaxEntries are the set's (see
	// RevocationSetOptions). Retain defaults to the discovery document's
	// latchkey_revocation_retention when it is read within FirstSync and
	// is at most a week, else to DefaultRevocationRetain.
	Retain        time.Duration
	MaxStale      time.Duration
	StaleTokenAge time.Duration
	MaxEntries    int
	// FirstSync is how long RemoteRevocations waits for the backlog before
	// it returns; until the backlog is in, the set is not current.
	// Default DefaultRevocationsFirstSync.
	FirstSync time.Duration
	// Timeout bounds each call. Default DefaultRevocationsTimeout.
	Timeout time.Duration
	// HTTPClient makes the calls; it is copied, and the copy holds
	// redirects to the URL rule and bodies to MaxJWKSSize.
	HTTPClient *http.Client
	// OnError sees the first failure of each outage, and every SET refused
	// or not held. Default: a warning on slog.Default(). Its text never
	// holds a token or the credential.
	OnError func(error)
	// OnRevoke, when set, sees every session revocation taken, after the
	// set holds it (sid empty for a user-scoped one).
	OnRevoke func(sid string, at time.Time)
}

// RemoteRevocations subscribes to an issuer's revocation feed, an OpenID
// Shared Signals stream of CAEP session-revoked events delivered by RFC
// 8936 long polling, and returns the RevocationSet it keeps, for
// Config.Revocations, with a stop function.
//
// It reads issuer + "/.well-known/ssf-configuration", creates a stream
// (the transmitter seeds it with every revocation still retained), drains
// that backlog, then long-polls, acknowledging what it took. Every SET is
// checked by ParseSET for the issuer and the stream's audience; a refused
// one is reported in the next poll's setErrs and never applied, and one
// whose kid is unknown is left for the transmitter to send again, then
// reported. On errors it retries from 100 ms up to 5 s apart, and creates
// a new stream when the transmitter no longer knows its own. URLs follow
// RemoteJWKS's rule: https, or http to a loopback host.
//
// It returns once the backlog is in, or after FirstSync; the set is not
// current until then (see RevocationSet). A failure to reach the feed is
// not an error: the loop keeps trying, and OnError hears of it. stop ends
// the loop, deletes the stream and marks the set stale.
func RemoteRevocations(ctx context.Context, issuer string, opts RevocationsOptions) (*RevocationSet, func(), error) {
	if opts.Credential == "" || opts.Keys == nil {
		return nil, nil, errors.New("verify: RevocationsOptions needs a Credential and Keys")
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, nil, errors.New("verify: issuer URL does not parse")
	}
	if err := checkJWKSURL(u); err != nil {
		return nil, nil, err
	}
	for _, d := range []time.Duration{opts.FirstSync, opts.Timeout} {
		if d < 0 {
			return nil, nil, fmt.Errorf("verify: RevocationsOptions has a negative duration %v", d)
		}
	}
	f := &feed{
		issuer:   issuer,
		discover: strings.TrimSuffix(issuer, "/") + "/.well-known/ssf-configuration",
		cred:     opts.Credential,
		keys:     opts.Keys,
		onError:  opts.OnError,
		onRevoke: opts.OnRevoke,
		retried:  make(map[string]bool),
	}
	timeout := orDefault(opts.Timeout, DefaultRevocationsTimeout)
	f.client = jwksClient(opts.HTTPClient, timeout)
	if f.onError == nil {
		f.onError = func(err error) {
			slog.Default().Warn("verify: revocation feed", "issuer", u.Redacted(), "err", err)
		}
	}
	firstSync := orDefault(opts.FirstSync, DefaultRevocationsFirstSync)
	deadline, cancelFirst := context.WithTimeout(ctx, firstSync)
	defer cancelFirst()
	retain := opts.Retain
	if err := f.discoverFeed(deadline); err != nil {
		f.fail(err)
	} else if retain == 0 && f.meta.Retention > 0 && f.meta.Retention <= maxFeedRetention {
		retain = time.Duration(f.meta.Retention) * time.Second
	}
	f.set, err = NewRevocationSet(RevocationSetOptions{
		Retain: retain, MaxStale: opts.MaxStale, StaleTokenAge: opts.StaleTokenAge, MaxEntries: opts.MaxEntries,
	})
	if err != nil {
		return nil, nil, err
	}
	loopCtx, cancel := context.WithCancel(ctx)
	f.synced = make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.loop(loopCtx)
	}()
	select {
	case <-f.synced:
	case <-deadline.Done():
	}
	stop := sync.OnceFunc(func() {
		cancel()
		wg.Wait()
		f.deleteStream()
		f.set.MarkStale()
	})
	return f.set, stop, nil
}

// loop keeps the stream and polls it until ctx ends: discovery and a
// stream when it has none, then polls, retrying with backoff on errors.
func (f *feed) loop(ctx context.Context) {
	wait := revocationsRetryFirst
	for ctx.Err() == nil {
		err := f.step(ctx)
		if err == nil {
			f.failing = false
			wait = revocationsRetryFirst
			continue
		}
		if ctx.Err() != nil {
			return
		}
		f.fail(err)
		if errors.Is(err, errStreamGone) {
			f.stream = nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, revocationsRetryMax)
	}
}

// fail reports err once per outage.
func (f *feed) fail(err error) {
	if !f.failing {
		f.failing = true
		f.onError(err)
	}
}

// step does the next thing the feed needs: discovery, a stream, or a poll.
func (f *feed) step(ctx context.Context) error {
	if f.meta == nil {
		return f.discoverFeed(ctx)
	}
	if f.stream == nil {
		return f.createStream(ctx)
	}
	return f.pollOnce(ctx)
}
