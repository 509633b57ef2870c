package auth

import (
	"net/netip"
	"time"

	"github.com/latchkey/latchkey"
)

// How the Recorder counts the rejections of unauthenticated requests.
const (
	// tallyWindow is the least time between two events of one key.
	tallyWindow = time.Minute
	// maxTallies bounds how many keys are counted at once: well under a
	// MB (a key and a 256-byte user agent each), and at most this many
	// rows a minute (plus one per type and reason for the rest) however
	// many addresses a flood comes from: a host with a /48, or a botnet,
	// holds far more addresses than any audit log should have rows.
	maxTallies = 256
	// firstWrites is how many first events of a burst may be written at
	// once in a minute, over every key: an operator sees an attack start,
	// but a flood from thousands of addresses does not become thousands
	// of rows at once. Past it, a first event is counted and written with
	// the rest of its key's minute.
	firstWrites = 60
)

// aggregated reports whether events of type typ are counted per client
// address and reason rather than recorded one by one: the rejections of
// unauthenticated requests, which anyone can cause in any number.
// signin_failed is not among them: it is about an account, and the
// per-account throttle bounds it.
func aggregated(typ string) bool {
	return typ == latchkey.AuditTokenRejected || typ == latchkey.AuditRateLimited
}

// tallyKey is what one counted event stands for. userID is set for a
// rate_limited "account" event: one account's throttle, from one address.
// An overflow key counts every address not given a key of its own.
type tallyKey struct {
	typ, reason, userID string
	addr                string // AddrKey of the client's IP
	overflow            bool
}

// tally is the count of one key since its last event was written.
type tally struct {
	since   time.Time // when the key's last event was written
	pending int64     // rejections counted since, not yet written
	at      time.Time // the latest of them
	ip, ua  string    // the first one's client; ip widens to the key's when they differ
}

// AddrKey is the key a client address is counted by, for the per-IP rate
// limit and for counting rejections alike: an IPv4 address (also written
// IPv4-mapped), or an IPv6 address's /64. One IPv6 host usually has a
// whole /64 to itself and can pick a new address in it for every request;
// keying by the full address would give it 2^64 keys. Text that is no
// address is its own key.
func AddrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
}

// keyOf is ev's key, or its type and reason's overflow key when
// maxTallies others are counted already. r.mu is held.
func (r *Recorder) keyOf(ev *latchkey.AuditEvent) tallyKey {
	k := tallyKey{typ: ev.Type, reason: ev.Reason, userID: ev.UserID, addr: AddrKey(ev.IP)}
	if _, ok := r.tallies[k]; !ok && len(r.tallies) >= maxTallies {
		return tallyKey{typ: ev.Type, reason: ev.Reason, overflow: true}
	}
	return k
}

// count writes ev at once with count 1 when it is the first of its key in
// a minute (an operator sees an attack start) and the minute's budget of
// first writes (firstWrites) is not spent, and otherwise counts it, to be
// written by flush. A first event that finds the queue full is counted
// too, so that it is written late rather than lost.
func (r *Recorder) count(ev *latchkey.AuditEvent, now time.Time) {
	r.mu.Lock()
	k := r.keyOf(ev)
	t := r.tallies[k]
	if t == nil || (t.pending == 0 && now.Sub(t.since) >= tallyWindow) {
		t = &tally{since: now}
		r.tallies[k] = t
		if r.firsts.AllowN(now, 1) {
			ev.Count = 1
			logged := *ev // the writer fills in ev once queued
			select {
			case r.queue <- ev:
				r.mu.Unlock()
				logEvent(r.log, &logged)
				return
			default:
			}
		}
	}
	switch {
	case t.pending == 0:
		t.ip, t.ua = ev.IP, ev.UserAgent
	case t.ip != ev.IP:
		t.ip = k.addr // the /64, or "" for the overflow key
	}
	t.pending++
	t.at = ev.At
	r.mu.Unlock()
}

// flush returns an event for every key whose minute has passed (every key
// when all) with rejections counted since its last event, and forgets the
// keys that had none.
func (r *Recorder) flush(now time.Time, all bool) []*latchkey.AuditEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*latchkey.AuditEvent
	for k, t := range r.tallies {
		if !all && now.Sub(t.since) < tallyWindow {
			continue
		}
		if t.pending == 0 || all {
			delete(r.tallies, k)
		}
		if t.pending == 0 {
			continue
		}
		out = append(out, &latchkey.AuditEvent{Type: k.typ, Reason: k.reason, UserID: k.userID,
			IP: t.ip, UserAgent: t.ua, At: t.at, Count: t.pending})
		*t = tally{since: now}
	}
	return out
}
