package postgres

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen LISTENs on channels over a connection of its own, opened with the
// pool's settings but outside it, so that busy queries can never keep it
// from reconnecting, and calls notify(channel) for each notification
// received, until ctx ends. notify runs on Listen's goroutine: it should
// only signal.
//
// When the connection is lost (the server restarted, a failover, a network
// cut) Listen reconnects, waiting 100 ms before the first attempt and
// doubling up to 5 s between attempts; a connection that is cut again
// within a minute keeps the longer wait, so a server that accepts and then
// drops connections is not hammered. Notifications sent while it was away
// are lost, so once it listens again it calls notify for every channel: the
// handler re-reads the store, which is the catch-up. It also calls notify
// for every channel after the first LISTEN, since something may have
// happened between the caller's first read and that moment.
func (db *DB) Listen(ctx context.Context, channels []string, notify func(channel string), log *slog.Logger) {
	const minWait, maxWait, stable = 100 * time.Millisecond, 5 * time.Second, time.Minute
	wait := minWait
	lost := false
	for first := true; ctx.Err() == nil; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		conn, err := db.listen(ctx, channels)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !lost {
				log.Warn("listen for notifications: cannot connect; retrying", "err", err)
				lost = true
			}
			wait = min(2*wait, maxWait)
			continue
		}
		if lost {
			log.Info("listening for notifications again; catching up")
			lost = false
		}
		up := time.Now()
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
		if time.Since(up) >= stable {
			wait = minWait
		} else {
			wait = min(2*wait, maxWait)
		}
	}
}

// listen opens a connection with the pool's settings and LISTENs on
// channels.
func (db *DB) listen(ctx context.Context, channels []string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig)
	if err != nil {
		return nil, err
	}
	for _, c := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{c}.Sanitize()); err != nil {
			conn.Close(context.Background())
			return nil, err
		}
	}
	return conn, nil
}
