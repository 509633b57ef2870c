package main

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"
)

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted, which must be in ascending order: the smallest value such that at
// least p percent of the values are less than or equal to it. It is 0 for
// an empty slice; p <= 0 gives the minimum.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The small epsilon keeps 90/100*10 = 9.000000000000002 at rank 9.
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	return sorted[rank-1]
}

// sortDurations sorts d in place, ascending.
func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}

// checkTarget parses the server's base URL and refuses a host that is not
// loopback (localhost, 127.0.0.0/8, ::1) unless allowRemote: a load tool
// aimed at someone else's server by a typo is an attack.
func checkTarget(raw string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-url %q: scheme must be http or https", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("-url %q: no host", raw)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("-url %q: give only scheme, host and port", raw)
	}
	u.Path = ""
	if !allowRemote && !isLoopback(host) {
		return nil, fmt.Errorf("-url %q: host %q is not loopback; pass -allow-remote to load a server you own elsewhere", raw, host)
	}
	return u, nil
}

// isLoopback reports whether host (a name or an IP literal without
// brackets) is a loopback host. Only the name "localhost" (and names under
// .localhost) count among names; nothing is resolved.
func isLoopback(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// mib formats a byte count in MiB, or "n/a" when unknown (negative).
func mib(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// ms formats a duration in milliseconds with 3 decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}
