package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// vuser is one provisioned user. Its tokens change as refreshes rotate them:
// refreshMu is held for the whole of a refresh so that no two workers ever
// present the same refresh token (that would be reuse, which revokes the
// session); mu guards the fields.
type vuser struct {
	id, email string

	refreshMu sync.Mutex
	mu        sync.RWMutex
	access    string
	refresh   string
}

func (u *vuser) tokens() (access, refresh string) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.access, u.refresh
}

func (u *vuser) setTokens(access, refresh string) {
	u.mu.Lock()
	u.access, u.refresh = access, refresh
	u.mu.Unlock()
}

// loader talks to one server.
type loader struct {
	base     string // scheme://host:port
	hc       *http.Client
	password string
	users    []*vuser
	next     atomic.Uint64 // round-robin over users
	seq      atomic.Uint64 // task titles
	mix      atomic.Uint64 // mixed-scenario choice
}

func newLoader(base string, concurrency int, timeout time.Duration) *loader {
	tr := &http.Transport{
		Proxy:               nil, // never send a loopback target through a proxy
		DialContext:         (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   true,
	}
	return &loader{base: base, hc: &http.Client{Transport: tr, Timeout: timeout}}
}

func (l *loader) close() { l.hc.CloseIdleConnections() }

// outcome is what one request came to: a status, or a transport error
// (timeout or other). cancelled means the run was interrupted; such a
// request is not counted.
type outcome struct {
	status     int
	code       string // the problem's code when status is not the wanted one
	retryAfter bool   // the answer carried Retry-After
	timeout    bool
	transport  bool
	cancelled  bool
}

// do sends one request and reads the answer in full (so the connection is
// reused). When into is not nil and the status is want, the body is decoded
// into it.
func (l *loader) do(ctx context.Context, method, path, bearer string, body any, want int, into any) (outcome, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return outcome{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		return outcome{}, err
	}
	req.Header.Set("User-Agent", "latchkey-load")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{cancelled: true}, err
		}
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return outcome{timeout: true}, err
		}
		return outcome{transport: true}, err
	}
	defer resp.Body.Close()
	o := outcome{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After") != ""}
	if resp.StatusCode == want && into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			return outcome{transport: true}, fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	} else if resp.StatusCode != want {
		var p struct {
			Code string `json:"code"`
		}
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&p) == nil {
			o.code = p.Code
		}
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		if ctx.Err() != nil {
			return outcome{cancelled: true}, err
		}
		return outcome{transport: true}, err
	}
	return o, nil
}

// grant is the part of a token response the tool keeps.
type grant struct {
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// errRateLimited tells run to print the --auth-rate hint.
var errRateLimited = errors.New("server answered 429 rate_limited")

func statusErr(what string, o outcome, err error) error {
	switch {
	case o.status == http.StatusTooManyRequests:
		return fmt.Errorf("%s: %w", what, errRateLimited)
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	default:
		return fmt.Errorf("%s: status %d %s", what, o.status, o.code)
	}
}
