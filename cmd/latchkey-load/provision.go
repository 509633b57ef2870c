package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// provision signs up n users (unique per run) and gives each tasks tasks,
// with at most workers requests in flight.
func (l *loader) provision(ctx context.Context, n, tasks, workers int) error {
	run := randHex(6)
	l.password = "load-" + randHex(12)
	l.users = make([]*vuser, n)
	// Sign-up is bounded by password hashing: a few at a time, and a 503
	// from a full hashing gate is retried after a pause.
	err := parallel(ctx, n, min(workers, 4), func(i int) error {
		email := fmt.Sprintf("load-%s-%d@example.com", run, i)
		var g grant
		body := map[string]string{"email": email, "password": l.password, "name": "load " + strconv.Itoa(i)}
		var o outcome
		var err error
		for try := 0; ; try++ {
			o, err = l.do(ctx, http.MethodPost, "/api/auth/signup", "", body, http.StatusCreated, &g)
			if err != nil || o.status != http.StatusServiceUnavailable || try == 20 {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(50*(try+1)) * time.Millisecond):
			}
		}
		if err != nil || o.status != http.StatusCreated {
			return statusErr("sign-up "+email, o, err)
		}
		u := &vuser{id: g.User.ID, email: email}
		u.setTokens(g.AccessToken, g.RefreshToken)
		l.users[i] = u
		return nil
	})
	if err != nil {
		return err
	}
	return parallel(ctx, n*tasks, min(workers, 64), func(i int) error {
		u := l.users[i%n]
		o, err := l.createTask(ctx, u)
		if err != nil || o.status != http.StatusCreated {
			return statusErr("create task for "+u.email, o, err)
		}
		return nil
	})
}

// parallel calls f(0..n-1) from at most workers goroutines and returns the
// first error; after one, no further calls start.
func parallel(ctx context.Context, n, workers int, f func(int) error) error {
	var (
		next     atomic.Int64
		firstErr error
		once     sync.Once
		failed   atomic.Bool
		wg       sync.WaitGroup
	)
	for w := 0; w < max(1, min(workers, n)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
