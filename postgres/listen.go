package postgres

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen LISTENs on channels over a connection of its own, taken from the
// pool and kept out of it, and calls notify(channel) for each notification
// received, until ctx ends. notify runs on Listen's goroutine: it should
// only signal.
//
// When the connection is lost (the server restarted, a failover, a network
// cut) Listen reconnects, waiting 100 ms and doubling up to 5 s between
// attempts. Notifications sent while it was away are lost, so once it
// listens again it calls notify for every channel: the handler re-reads
// the store, which is the catch-up. It also calls notify for every channel
// after the first LISTEN, since something may have happened between the
// caller's first read and that moment.
func (db *DB) Listen(ctx context.Context, channels []string, notify func(channel string), log *slog.Logger) {
	const minWait, maxWait = 100 * time.Millisecond, 5 * time.Second
	wait := minWait
	lost := false
	for ctx.Err() == nil {
		conn, err := db.listen(ctx, channels)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !lost {
				log.Warn("listen for notifications: cannot connect; retrying", "err", err)
				lost = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, maxWait)
			continue
		}
		if lost {
			log.Info("listening for notifications again; catching up")
			lost = false
		}
		wait = minWait
		for _, c := range channels {
			notify(c)
		}
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("listen for notifications: connection lost; reconnecting", "err", err)
					lost = true
				}
				break
			}
			notify(n.Channel)
		}
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn.Close(closeCtx)
		cancel()
	}
}

// listen takes a connection out of the pool and LISTENs on channels.
func (db *DB) listen(ctx context.Context, channels []string) (*pgx.Conn, error) {
	pc, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	conn := pc.Hijack()
	for _, c := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{c}.Sanitize()); err != nil {
			conn.Close(context.Background())
			return nil, err
		}
	}
	return conn, nil
}
