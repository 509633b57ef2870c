package auth

// A signed-in user's second factor (issue 14): enrol and confirm a TOTP
// factor, list it, remove it, and regenerate the recovery codes; and the
// administrator's reset. Each change mails the user and is audited in the
// store transaction that makes it.

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/mail"
)

// MFAStatus is a user's second factor as the account shows it: the
// confirmed TOTP factors (at most one) and how many recovery codes are
// left.
type MFAStatus struct {
	Factors                []*latchkey.TOTPFactor
	RecoveryCodesRemaining int
}

// amrTOTP is the amr of a session whose user gave a password and a TOTP
// code.
var amrTOTP = []string{latchkey.AMRPassword, latchkey.AMROTP, latchkey.AMRMFA}

// StartTOTP checks the current password and enrols a new, unconfirmed
// TOTP factor. EINVALID when the user already has a confirmed one.
func (s *Service) StartTOTP(ctx context.Context, userID, sid, current string, c Client) (*TOTPEnrolment, error) {
	if current == "" {
		return nil, latchkey.ValidationError(latchkey.FieldError{Field: "current_password", Message: requiredRuleText})
	}
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if err := s.checkCurrentPassword(ctx, u, sid, current, c); err != nil {
		return nil, err
	}
	return s.EnrollTOTP(ctx, u)
}

// EnableTOTP confirms the user's factor id with a first code, which gives
// the user recovery codes, mails "two-factor sign-in turned on" and
// records mfa_enabled, in one transaction. Then it opens a new session for
// this device, with amr ["pwd", "otp", "mfa"], and revokes every other
// session of the user, the calling one (sid) included: whoever held a
// session signed in with the password alone holds it no more.
//
// A wrong, reused or malformed code is validation_failed on code (and
// counts toward the lock); ENOTFOUND for no such factor; EINVALID when
// it, or another, is already confirmed.
func (s *Service) EnableTOTP(ctx context.Context, userID, sid, id, code string, c Client) (*ConfirmedTOTP, *Grant, error) {
	if code == "" {
		return nil, nil, latchkey.ValidationError(latchkey.FieldError{Field: "code", Message: requiredRuleText})
	}
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	notice, err := s.notice(u, mail.MFAEnabled)
	if err != nil {
		return nil, nil, err
	}
	ev := event(latchkey.AuditMFAEnabled, c)
	ev.UserID, ev.SessionID = userID, sid
	conf, err := s.ConfirmTOTP(latchkey.WithMail(latchkey.WithAudit(ctx, ev), notice), userID, id, code)
	if err != nil {
		s.codeFailed(c, userID, sid, err)
		return nil, nil, codeField(err)
	}
	logEvent(s.Logger, ev)
	g, err := s.startSession(ctx, u, c, nil, amrTOTP)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	ids, err := s.Store.RevokeUserSessions(ctx, userID, g.SessionID, latchkey.ReasonMFAEnabled, now)
	if err != nil {
		return nil, nil, err
	}
	s.Revoked.Add(now, ids...)
	return conf, g, nil
}

// MFA returns the user's confirmed factor and the recovery codes left.
func (s *Service) MFA(ctx context.Context, userID string) (*MFAStatus, error) {
	all, err := s.Store.ListTOTPFactors(ctx, userID)
	if err != nil {
		return nil, err
	}
	st := &MFAStatus{Factors: []*latchkey.TOTPFactor{}}
	for _, f := range all {
		if f.Confirmed() {
			st.Factors = append(st.Factors, f)
		}
	}
	if st.RecoveryCodesRemaining, err = s.Store.CountRecoveryCodes(ctx, userID); err != nil {
		return nil, err
	}
	return st, nil
}

// DisableTOTP removes the user's confirmed factor id, and the recovery
// codes with it, given the current password and a TOTP or recovery code;
// it mails "two-factor sign-in turned off" and records mfa_disabled in
// the same transaction. ENOTFOUND for no such confirmed factor.
func (s *Service) DisableTOTP(ctx context.Context, userID, sid, id, current, code string, c Client) error {
	u, err := s.checkPasswordAndCode(ctx, userID, sid, current, code, c, func() error {
		f, err := s.Store.FindTOTPFactor(ctx, userID, id)
		if err == nil && !f.Confirmed() {
			err = latchkey.Errorf(latchkey.ENOTFOUND, "no such confirmed TOTP factor")
		}
		return err
	})
	if err != nil {
		return err
	}
	notice, err := s.notice(u, mail.MFADisabled)
	if err != nil {
		return err
	}
	ev := event(latchkey.AuditMFADisabled, c)
	ev.UserID, ev.SessionID = userID, sid
	if err := s.Store.DeleteTOTPFactor(latchkey.WithMail(latchkey.WithAudit(ctx, ev), notice), userID, id); err != nil {
		return err
	}
	logEvent(s.Logger, ev)
	return nil
}

// NewRecoveryCodes replaces the user's recovery codes, given the current
// password and a TOTP or recovery code, and returns the new ones; it
// mails "new recovery codes" and records recovery_codes_regenerated in
// the same transaction.
func (s *Service) NewRecoveryCodes(ctx context.Context, userID, sid, current, code string, c Client) ([]string, error) {
	u, err := s.checkPasswordAndCode(ctx, userID, sid, current, code, c, nil)
	if err != nil {
		return nil, err
	}
	notice, err := s.notice(u, mail.RecoveryCodesRegenerated)
	if err != nil {
		return nil, err
	}
	ev := event(latchkey.AuditRecoveryCodesRegenerated, c)
	ev.UserID, ev.SessionID = userID, sid
	codes, err := s.RegenerateRecoveryCodes(latchkey.WithMail(latchkey.WithAudit(ctx, ev), notice), userID)
	if err != nil {
		return nil, err
	}
	logEvent(s.Logger, ev)
	return codes, nil
}

// checkPasswordAndCode checks, in this order, that both fields are given,
// the current password (sharing the password throttle), then check (when
// not nil: whether the thing to change exists), then the TOTP or recovery
// code, which it spends. A wrong code is validation_failed on code.
func (s *Service) checkPasswordAndCode(ctx context.Context, userID, sid, current, code string, c Client, check func() error) (*latchkey.User, error) {
	var errs []latchkey.FieldError
	if current == "" {
		errs = append(errs, latchkey.FieldError{Field: "current_password", Message: requiredRuleText})
	}
	if code == "" {
		errs = append(errs, latchkey.FieldError{Field: "code", Message: requiredRuleText})
	}
	if len(errs) > 0 {
		return nil, latchkey.ValidationError(errs...)
	}
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if err := s.checkCurrentPassword(ctx, u, sid, current, c); err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, err
		}
	}
	if _, err := s.VerifyCode(ctx, userID, code); err != nil {
		s.codeFailed(c, userID, sid, err)
		return nil, codeField(err)
	}
	return u, nil
}

// codeField turns a wrong code into validation_failed on code, for the
// routes of a signed-in user, where 401 would read as a dead session.
func codeField(err error) error {
	if latchkey.ErrorCode(err) == latchkey.EINVALIDCREDENTIALS {
		return latchkey.ValidationError(latchkey.FieldError{Field: "code", Message: "is not correct"})
	}
	return err
}

// ResetMFA is the administrator's escape hatch: it removes every factor
// and recovery code of the user and kills the user's mfa_tokens, recording
// mfa_reset (with actorID) and mailing the user in that transaction, then
// revokes every session of the user. ENOTFOUND for an unknown user.
func (s *Service) ResetMFA(ctx context.Context, actorID, userID string, c Client) error {
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	notice, err := s.notice(u, mail.MFAReset)
	if err != nil {
		return err
	}
	now := s.now()
	ev := event(latchkey.AuditMFAReset, c)
	ev.UserID, ev.ActorID = userID, actorID
	if _, err := s.Store.ResetMFA(latchkey.WithMail(latchkey.WithAudit(ctx, ev), notice), userID, now); err != nil {
		return err
	}
	logEvent(s.Logger, ev)
	// Then the sessions: one opened with the second factor while the
	// factors were being removed is revoked too.
	ids, err := s.Store.RevokeUserSessions(ctx, userID, "", latchkey.ReasonMFAReset, now)
	if err != nil {
		return err
	}
	s.Revoked.Add(now, ids...)
	return nil
}
