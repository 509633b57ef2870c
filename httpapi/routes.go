package httpapi

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

// addRoutes is the whole API surface in one place.
func (s *server) addRoutes(mux *http.ServeMux) {
	authed := s.requireToken
	tasks := s.requireTaskToken // also the trusted external issuer's tokens
	limited := s.limitAuth

	mux.Handle("POST /api/auth/signup", limited(s.handleSignUp()))
	mux.Handle("POST /api/auth/signin", limited(s.handleSignIn()))
	mux.Handle("POST /api/auth/signin/mfa", limited(s.handleSignInMFA()))
	mux.Handle("POST /api/auth/refresh", limited(s.handleRefresh()))
	mux.Handle("POST /api/auth/signout", limited(s.handleSignOut())) // Bearer, or a refresh token
	mux.Handle("GET /api/auth/me", authed(s.handleMe()))
	mux.Handle("GET /api/auth/sessions", authed(s.handleListSessions()))
	mux.Handle("DELETE /api/auth/sessions/{id}", authed(s.handleRevokeSession()))
	mux.Handle("POST /api/auth/password", limited(authed(s.handleChangePassword())))
	mux.Handle("POST /api/auth/password/forgot", limited(s.handleForgotPassword()))
	mux.Handle("POST /api/auth/password/reset", limited(s.handleResetPassword()))
	mux.Handle("POST /api/auth/email/verify", limited(s.optionalToken(s.handleVerifyEmail())))
	mux.Handle("POST /api/auth/email/verify/resend", limited(authed(s.handleResendVerification())))
	mux.Handle("POST /api/auth/email/change", limited(authed(s.handleChangeEmail())))
	mux.Handle("POST /api/auth/email/change/confirm", limited(authed(s.handleConfirmEmailChange())))
	mux.Handle("GET /api/auth/mfa", authed(s.handleMFA()))
	mux.Handle("POST /api/auth/mfa/totp", limited(authed(s.handleStartTOTP())))
	mux.Handle("POST /api/auth/mfa/totp/{id}/confirm", limited(authed(s.handleConfirmTOTP())))
	mux.Handle("DELETE /api/auth/mfa/totp/{id}", limited(authed(s.handleDeleteTOTP())))
	mux.Handle("POST /api/auth/mfa/recovery-codes", limited(authed(s.handleNewRecoveryCodes())))
	mux.Handle("POST /api/auth/passkeys/register/options", limited(authed(s.handlePasskeyRegisterOptions())))
	mux.Handle("POST /api/auth/passkeys/register", limited(authed(s.handlePasskeyRegister())))
	mux.Handle("POST /api/auth/passkeys/signin/options", limited(s.handlePasskeySignInOptions()))
	mux.Handle("POST /api/auth/passkeys/signin", limited(s.handlePasskeySignIn()))
	mux.Handle("GET /api/auth/passkeys", authed(s.handleListPasskeys()))
	mux.Handle("PATCH /api/auth/passkeys/{id}", authed(s.handleRenamePasskey()))
	mux.Handle("DELETE /api/auth/passkeys/{id}", limited(authed(s.handleDeletePasskey())))
	mux.Handle("GET /.well-known/jwks.json", s.handleJWKS())
	mux.Handle("GET /api/auth/jwks", s.handleJWKS())

	mux.Handle("GET /api/{user_id}/tasks", tasks(requireOwner(s.handleListTasks())))
	mux.Handle("POST /api/{user_id}/tasks", tasks(requireOwner(s.handleCreateTask())))
	mux.Handle("GET /api/{user_id}/tasks/{id}", tasks(requireOwner(s.handleGetTask())))
	mux.Handle("PUT /api/{user_id}/tasks/{id}", tasks(requireOwner(s.handleReplaceTask())))
	mux.Handle("PATCH /api/{user_id}/tasks/{id}", tasks(requireOwner(s.handlePatchTask())))
	mux.Handle("PATCH /api/{user_id}/tasks/{id}/complete", tasks(requireOwner(s.handleToggleTask())))
	mux.Handle("DELETE /api/{user_id}/tasks/{id}", tasks(requireOwner(s.handleDeleteTask())))

	admin := func(h http.Handler) http.Handler { return authed(requireAdmin(s.requireAdminMFA(h))) }
	mux.Handle("GET /api/admin/users", admin(s.handleAdminListUsers()))
	mux.Handle("PATCH /api/admin/users/{id}", admin(s.handleAdminUpdateUser()))
	mux.Handle("POST /api/admin/users/{id}/mfa/reset", admin(s.handleAdminResetMFA()))
	mux.Handle("GET /api/admin/audit", admin(s.handleAdminAudit()))
	mux.Handle("GET /api/admin/receivers", admin(s.handleAdminListReceivers()))
	mux.Handle("POST /api/admin/receivers", admin(s.handleAdminAddReceiver()))
	mux.Handle("DELETE /api/admin/receivers/{name}", admin(s.handleAdminRemoveReceiver()))

	// The revocation feed (SSF 1.0, RFC 8936): receivers, not users.
	mux.Handle("GET /.well-known/ssf-configuration", s.handleSSFConfiguration())
	mux.Handle("POST /ssf/streams", s.handleCreateStream())
	mux.Handle("GET /ssf/streams", s.handleGetStreams())
	mux.Handle("PATCH /ssf/streams", s.handleUpdateStream(false))
	mux.Handle("PUT /ssf/streams", s.handleUpdateStream(true))
	mux.Handle("DELETE /ssf/streams", s.handleDeleteStream())
	mux.Handle("GET /ssf/streams/status", s.handleGetStreamStatus())
	mux.Handle("POST /ssf/streams/status", s.handleSetStreamStatus())
	mux.Handle("POST /ssf/verify", s.handleVerifyStream())
	mux.Handle("POST /ssf/poll/{id}", s.handlePoll())

	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("GET /metrics", s.handleMetrics())
	mux.Handle("GET /openapi.yaml", handleOpenAPI())
	mux.Handle("GET /{$}", s.handleWebApp())
	mux.Handle("GET /assets/", s.handleWebAssets())
	// Everything else, any method, is a problem+json 404 rather than
	// ServeMux's plain-text one.
	mux.Handle("/", s.handleNotFound())
}

// handleNotFound answers every path no route matches, with any method.
func (s *server) handleNotFound() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		return latchkey.Errorf(latchkey.ENOTFOUND, "no such resource")
	})
}
