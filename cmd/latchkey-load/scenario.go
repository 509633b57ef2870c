package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

func (l *loader) pick() *vuser {
	return l.users[(l.next.Add(1)-1)%uint64(len(l.users))]
}

// The operations. Each returns the outcome and the status that counts as
// success.

func (l *loader) createTask(ctx context.Context, u *vuser) (outcome, error) {
	access, _ := u.tokens()
	title := "load task " + strconv.FormatUint(l.seq.Add(1), 10)
	return l.do(ctx, http.MethodPost, "/api/"+url.PathEscape(u.id)+"/tasks", access,
		map[string]string{"title": title}, http.StatusCreated, nil)
}

// opSignin signs a user in, and the new session becomes the one the user's
// other operations use, as for a real client. The server keeps at most
// LATCHKEY_MAX_SESSIONS live sessions per user and revokes the least
// recently used one past it, so a run of sign-ins would otherwise displace
// the session the user's refreshes and task calls go on with. No refresh
// token is presented here, so refreshMu is not needed: a refresh in flight
// may still store its own session's next pair, which stays valid.
func (l *loader) opSignin(ctx context.Context) (outcome, int) {
	u := l.pick()
	var g grant
	o, err := l.do(ctx, http.MethodPost, "/api/auth/signin", "",
		map[string]string{"email": u.email, "password": l.password}, http.StatusOK, &g)
	if err == nil && o.status == http.StatusOK {
		u.setTokens(g.AccessToken, g.RefreshToken)
	}
	return o, http.StatusOK
}

func (l *loader) opList(ctx context.Context) (outcome, int) {
	u := l.pick()
	access, _ := u.tokens()
	o, _ := l.do(ctx, http.MethodGet, "/api/"+url.PathEscape(u.id)+"/tasks", access, nil, http.StatusOK, nil)
	return o, http.StatusOK
}

func (l *loader) opCreate(ctx context.Context) (outcome, int) {
	o, _ := l.createTask(ctx, l.pick())
	return o, http.StatusCreated
}

func (l *loader) opHealthz(ctx context.Context) (outcome, int) {
	o, _ := l.do(ctx, http.MethodGet, "/healthz", "", nil, http.StatusOK, nil)
	return o, http.StatusOK
}

// refreshUser rotates u's refresh token, keeping the new pair. The caller
// holds u.refreshMu, so the token presented is always the latest.
func (l *loader) refreshUser(ctx context.Context, u *vuser) (outcome, error) {
	_, refresh := u.tokens()
	var g grant
	o, err := l.do(ctx, http.MethodPost, "/api/auth/refresh", "",
		map[string]string{"refresh_token": refresh}, http.StatusOK, &g)
	if err == nil && o.status == http.StatusOK {
		u.setTokens(g.AccessToken, g.RefreshToken)
	}
	return o, err
}

// refreshAll renews every user's access token (execute calls it in the
// background every renewEvery so that a long run does not outlive the
// tokens). A session the server revoked meanwhile (sign-ins of the user
// past LATCHKEY_MAX_SESSIONS displace the least recently used one, and
// two sign-ins in flight may store their pairs out of order) is replaced
// by a sign-in, as a real client signs in again.
func (l *loader) refreshAll(ctx context.Context, workers int) error {
	return parallel(ctx, len(l.users), min(workers, 16), func(i int) error {
		u := l.users[i]
		u.refreshMu.Lock()
		defer u.refreshMu.Unlock()
		o, err := l.refreshUser(ctx, u)
		if err == nil && o.status == http.StatusUnauthorized && o.code == "token_revoked" {
			var g grant
			o, err = l.do(ctx, http.MethodPost, "/api/auth/signin", "",
				map[string]string{"email": u.email, "password": l.password}, http.StatusOK, &g)
			if err == nil && o.status == http.StatusOK {
				u.setTokens(g.AccessToken, g.RefreshToken)
			}
		}
		if err != nil || o.status != http.StatusOK {
			return statusErr("refresh for "+u.email, o, err)
		}
		return nil
	})
}

// op sends one request of a scenario and returns its outcome and the status
// that counts as success. drive counts its latency from the request's
// scheduled time under -rate, else from just before the call, so a wait for
// the user's refresh lock counts too.
type op func(ctx context.Context) (outcome, int)

// scenario maps a name to its operation; nil for an unknown name.
func (l *loader) scenario(name string) op {
	switch name {
	case "signin":
		return l.opSignin
	case "refresh":
		return l.opRefresh
	case "list":
		return l.opList
	case "create":
		return l.opCreate
	case "healthz":
		return l.opHealthz
	case "mixed":
		return l.opMixed
	}
	return nil
}

func (l *loader) opRefresh(ctx context.Context) (outcome, int) {
	u := l.pick()
	u.refreshMu.Lock()
	defer u.refreshMu.Unlock()
	o, _ := l.refreshUser(ctx, u)
	return o, http.StatusOK
}

// opMixed is, out of every 100 requests: 80 list, 12 create, 6 refresh,
// 2 sign-in (sign-in is bounded by password hashing, so a little goes a
// long way).
func (l *loader) opMixed(ctx context.Context) (outcome, int) {
	switch k := (l.mix.Add(1) - 1) % 100; {
	case k < 80:
		return l.opList(ctx)
	case k < 92:
		return l.opCreate(ctx)
	case k < 98:
		return l.opRefresh(ctx)
	default:
		return l.opSignin(ctx)
	}
}
