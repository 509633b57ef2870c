package app

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/sqldb"
)

// listen returns the channels that wake the revocation and key watchers
// when another instance changed something: on PostgreSQL, fed by LISTEN
// (reconnecting, and waking both after each reconnect to catch up on what
// was missed); on SQLite nil, and the watchers poll. A wake-up that finds
// one pending is dropped: the read it triggers covers both.
func (a *App) listen(ctx context.Context) (revoked, keys <-chan struct{}) {
	if a.Store.pg == nil {
		return nil, nil
	}
	r, k := make(chan struct{}, 1), make(chan struct{}, 1)
	wake := map[string]chan struct{}{sqldb.ChannelRevocations: r, sqldb.ChannelKeys: k}
	a.goJob(func() {
		a.Store.pg.Listen(ctx, []string{sqldb.ChannelRevocations, sqldb.ChannelKeys}, func(channel string) {
			select {
			case wake[channel] <- struct{}{}:
			default:
			}
		}, a.Log)
	})
	return r, k
}

// maxClockSkew is how far an instance's clock may drift from the
// database's before serve warns: revocations are read back by their time
// stamps with 10 s to spare, and tokens carry times too.
const maxClockSkew = 2 * time.Second

// watchClock compares this machine's clock with PostgreSQL's at start and
// then every interval, and warns when they disagree by more than
// maxClockSkew: several instances must keep their clocks in step
// (docs/deploy.md).
func (a *App) watchClock(ctx context.Context, interval time.Duration) {
	if a.Store.pg == nil {
		return
	}
	for first := true; ; first = false {
		skew, err := a.Store.pg.ClockSkew(ctx)
		switch {
		case err != nil:
			// An outage: the store's own errors say so.
		case skew > maxClockSkew || skew < -maxClockSkew:
			a.Log.Warn("this machine's clock disagrees with PostgreSQL's: keep every instance's clock synchronised (NTP), or revocations made on one may be missed by another", "skew", skew.Round(time.Millisecond))
		case first:
			a.Log.Info("clock checked against PostgreSQL", "skew", skew.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
