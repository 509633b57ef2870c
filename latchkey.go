// Package latchkey holds Latchkey's domain vocabulary: users, sessions, tasks,
// signing keys and audit events, the services that store them, and the
// contract's error codes. One file per entity, mirroring sqldb/.
//
// It imports nothing but the standard library. Adapters (sqldb, httpapi, ...)
// depend on it; it depends on none of them.
package latchkey

import "context"

// Store is everything the server keeps. Code that needs only part of it
// takes the narrower service interface it uses.
type Store interface {
	UserService
	AdminService
	SessionService
	TaskService
	KeyService
	ThrottleService
	AuditService
	OneTimeTokenService
	MFAService
	OutboxService
	PasskeyService
	SSFService
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}
