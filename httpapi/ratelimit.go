package httpapi

import (
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
)

// ipLimiter is the per-client-IP token bucket on auth POSTs: perMinute a
// minute, with a burst of as many.
type ipLimiter struct {
	perMinute int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	swept   time.Time
}

// maxBuckets bounds the limiter's memory whatever addresses come. Past it,
// idle buckets are dropped; if every bucket is busy (someone with a
// hundred thousand addresses), all are: the per-IP limit then forgets, but
// memory stays bounded and the per-account throttle still holds.
const maxBuckets = 100_000

func newIPLimiter(perMinute int) *ipLimiter {
	return &ipLimiter{perMinute: perMinute, buckets: make(map[string]*rate.Limiter)}
}

// reserve takes a token for ip, or says how long until one is free.
func (l *ipLimiter) reserve(ip string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute || len(l.buckets) >= maxBuckets {
		l.sweep(now)
		if len(l.buckets) >= maxBuckets {
			clear(l.buckets)
		}
	}
	b, ok := l.buckets[ip]
	if !ok {
		b = rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)
		l.buckets[ip] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets buckets that have refilled: they hold no history worth
// keeping, and an address that comes back starts full anyway.
func (l *ipLimiter) sweep(now time.Time) {
	for ip, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.perMinute) {
			delete(l.buckets, ip)
		}
	}
	l.swept = now
}

// limitAuth applies the per-IP limit, one bucket per address shared by all
// the POSTs under /api/auth/.
func (s *server) limitAuth(next http.Handler) http.Handler {
	if s.authLimiter == nil {
		return next
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		if ok, wait := s.authLimiter.reserve(auth.AddrKey(s.clientIP(r)), time.Now()); !ok {
			s.Auth.Record(latchkey.AuditRateLimited, s.client(r), "", "", "ip")
			return &latchkey.Error{
				Code: latchkey.ERATELIMITED, Message: "too many requests from this address; try again later", RetryAfter: wait,
			}
		}
		next.ServeHTTP(w, r)
		return nil
	})
}
