package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/httpapi"
	"github.com/latchkey/latchkey/outbox"
)

// Intervals of the background jobs.
const (
	// revocationPoll is how often a server reads the revocations other
	// processes made: half a second keeps the contract's 2 s with room to
	// spare on a loaded machine, for one indexed range query.
	revocationPoll = 500 * time.Millisecond
	// keyPoll is how often a server re-reads the signing keys other
	// processes sharing the store may have added.
	keyPoll = time.Second
	// clockCheck is how often an instance on PostgreSQL compares its clock
	// with the database's.
	clockCheck = 10 * time.Minute
	// pruneEvery is how often expired sessions, old sign-in failures and
	// old audit events are deleted.
	pruneEvery = time.Hour
	// requestTimeout bounds the work of one request: a database that does
	// not answer within it (an outage, a failover) gets the client a 503
	// rather than a hang. It is well inside the server's WriteTimeout, so
	// the 503 still reaches the client.
	requestTimeout = 10 * time.Second
)

// Start loads the revocations still relevant, starts the background jobs
// (revocation and key watchers, LISTEN on PostgreSQL, the clock check,
// pruning, the audit writer), sets up the trusted issuer's verifier and
// builds the HTTP handler. Close stops what it started.
func (a *App) Start(ctx context.Context) error {
	if a.stopJobs != nil {
		return errors.New("app: started twice")
	}
	since, err := a.Revoked.Load(ctx, a.Store)
	if err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	// The jobs outlive the request that started them (a test's, or
	// serve's signal context): Close stops them, after the requests.
	jobs, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stopJobs = stop
	wakeRevoked, wakeKeys := a.listen(jobs)
	a.goJob(func() { a.watchClock(jobs, clockCheck) })
	a.goJob(func() { a.Revoked.Watch(jobs, a.Store, since, revocationPoll, wakeRevoked, a.Log) })
	if a.Ring != nil {
		a.goJob(func() { a.Ring.Watch(jobs, keyPoll, wakeKeys, a.Log) })
	}
	a.startOutbox(jobs)
	a.goJob(func() {
		auth.Prune(jobs, a.Store, auth.Retention{
			Sessions: a.Revoked.Retain + time.Hour,
			Audit:    a.Config.AuditRetention,
		}, pruneEvery, a.Log)
	})
	// The audit writer has its own context: Close stops it after the
	// requests and the other jobs, the last that could record an event.
	// Stopped, it writes what is queued and every count not yet written,
	// and Close waits for that before the store closes.
	audit, stopAudit := context.WithCancel(context.WithoutCancel(ctx))
	a.stopAudit, a.auditDone = stopAudit, make(chan struct{})
	go func() {
		defer close(a.auditDone)
		a.Audit.Run(audit)
	}()

	trusted, stopTrusted, err := a.trustedVerifier(jobs)
	if err != nil {
		return err
	}
	a.stopTrusted = stopTrusted
	if a.Config.Registry == nil {
		// One registry for both listeners: the API's counts are what the
		// metrics listener shows.
		a.Config.Registry = prometheus.NewRegistry()
	}
	hc := httpapi.Config{
		Trusted:             trusted,
		TrustedIssuer:       a.Config.TrustedIssuer,
		Logger:              a.Log,
		Auth:                a.Auth,
		Feed:                a.Feed,
		Users:               a.Store,
		Tasks:               a.Store,
		Admin:               a.Store,
		Ready:               a.Store,
		Verifier:            a.Verifier,
		JWKS:                a.JWKS,
		Issuer:              a.Config.Issuer,
		AllowedHosts:        a.Config.AllowedHosts,
		TrustProxy:          a.Config.TrustProxy,
		AuthRate:            a.Config.AuthRate,
		RequireMFAForAdmins: a.Config.RequireMFAForAdmins,
		CORSOrigins:         a.Config.CORSOrigins,
		Registry:            a.Config.Registry,
		SeparateMetrics:     a.Config.MetricsAddr != "",
		RequestTimeout:      requestTimeout,
	}
	a.handler = httpapi.NewServer(hc)
	a.metrics = httpapi.NewMetricsHandler(hc)
	return nil
}

// startOutbox starts the outbox's sender, which sends through
// Config.Mailer and is woken by every mail this process commits. With no
// Mailer nothing is sent: it says so once, with where the mail is, and
// only gives up mail a day old. The sender is a job: Close stops it
// before the store closes, letting a send under way finish.
func (a *App) startOutbox(jobs context.Context) {
	if a.Config.Mailer == nil {
		a.Log.Warn("mail is not being sent: no LATCHKEY_SMTP_URL; `latchkey mail list` shows the mail waiting in the outbox")
	}
	a.Sender = outbox.New(a.Store, a.Config.Mailer, a.Log)
	if a.Config.Mailer != nil {
		a.Store.MailQueued = a.Sender.Wake
	}
	a.goJob(func() { a.Sender.Run(jobs) })
}

// goJob runs a background job that Close waits for.
func (a *App) goJob(job func()) {
	a.jobs.Add(1)
	go func() {
		defer a.jobs.Done()
		job()
	}()
}

// Handler is the whole HTTP API; nil before Start.
func (a *App) Handler() http.Handler { return a.handler }

// MetricsHandler serves /metrics alone, for LATCHKEY_METRICS_ADDR; nil
// before Start.
func (a *App) MetricsHandler() http.Handler { return a.metrics }
