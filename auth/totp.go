package auth

// TOTP, the second factor of issue 14 (RFC 6238: SHA-1, 6 digits, 30 s
// steps, the previous, current and next step accepted). The store keeps
// the secret sealed and the last accepted step; this file makes the
// secret, seals and opens it, finds which step a code matches, and counts
// wrong codes towards the lock (latchkey.MaxTOTPFailures).

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey"
)

// TOTPKeyInfo is the HKDF info under which the key that seals TOTP secrets
// is derived from the key-encryption key (keyseal.Sealer.DeriveKey): a key
// of its own, apart from the one that seals the signing keys. Changing it
// makes every factor's secret unreadable.
const TOTPKeyInfo = "latchkey totp secrets v1: AES-256-GCM sealing key"

// The RFC 6238 parameters every factor uses: what authenticator apps
// assume when the otpauth URI says nothing, and all Google Authenticator
// supports.
const (
	TOTPPeriod     = 30 // seconds per time step
	TOTPDigits     = 6
	totpSecretSize = 20 // bytes: 160 bits, RFC 4226's recommendation
	// totpSkew is how many steps either side of the current one are
	// accepted: a clock 30 s off, or a code typed as it changed.
	totpSkew = 1
	// qrSize is the side of the QR code's PNG, in pixels.
	qrSize = 256
)

// DefaultTOTPIssuer names the service in authenticator apps when
// Service.TOTPIssuer is empty.
const DefaultTOTPIssuer = "Latchkey"

var totpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// b32 is the secret's encoding in the otpauth URI and for typing it in.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// errWrongCode answers every TOTP or recovery code that is not accepted:
// wrong, reused or malformed alike.
var errWrongCode = latchkey.Errorf(latchkey.EINVALIDCREDENTIALS, "the code is wrong")

// ErrTOTPLockedNow is joined to the rate_limited error of the wrong code
// that locked the user's TOTP (errors.Is), so that the caller records
// mfa_locked once.
var ErrTOTPLockedNow = errors.New("auth: this wrong code locked two-factor codes")

// Sealer seals secrets at rest; *keyseal.Sealer is one.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// TOTPEnrolment is a new, unconfirmed TOTP factor and what the user needs
// to add it to an authenticator app. The secret is in it, so it goes in
// the answer to the user and nowhere else (never a log).
type TOTPEnrolment struct {
	Factor *latchkey.TOTPFactor
	// Secret is the secret in base32 without padding, for typing it in.
	Secret string
	// URI is the otpauth:// URI the QR code holds.
	URI string
	// QRPNG is the QR code of URI as a data:image/png;base64, URL.
	QRPNG string
}

// ConfirmedTOTP is a factor just confirmed and the user's new recovery
// codes, shown once (formatted xxxx-xxxx-xxxx-xxxx).
type ConfirmedTOTP struct {
	Factor        *latchkey.TOTPFactor
	RecoveryCodes []string
}

// totpAAD binds a sealed secret to its factor and user: copied into
// another row, it does not open.
func totpAAD(f *latchkey.TOTPFactor) []byte {
	return []byte("latchkey totp secret v1\x00" + f.ID + "\x00" + f.UserID)
}

// EnrollTOTP makes a new unconfirmed factor for u, replacing an earlier
// unconfirmed one (with the change ctx carries). It fails with EINVALID
// when u already has a confirmed factor: one at a time.
func (s *Service) EnrollTOTP(ctx context.Context, u *latchkey.User) (*TOTPEnrolment, error) {
	if s.TOTPSealer == nil {
		return nil, errors.New("auth: no TOTP sealer")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("auth: factor id: %w", err)
	}
	raw := make([]byte, totpSecretSize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("auth: TOTP secret: %w", err)
	}
	issuer := s.TOTPIssuer
	if issuer == "" {
		issuer = DefaultTOTPIssuer
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Email, Period: TOTPPeriod,
		Secret: raw, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("auth: TOTP key: %w", err)
	}
	qr, err := qrPNG(key.URL())
	if err != nil {
		return nil, err
	}
	f := &latchkey.TOTPFactor{ID: id.String(), UserID: u.ID, CreatedAt: s.now()}
	if f.Secret, err = s.TOTPSealer.Seal(raw, totpAAD(f)); err != nil {
		return nil, fmt.Errorf("auth: seal TOTP secret: %w", err)
	}
	if err := s.Store.CreateTOTPFactor(ctx, f); err != nil {
		return nil, fmt.Errorf("auth: store TOTP factor: %w", err)
	}
	return &TOTPEnrolment{Factor: f, Secret: key.Secret(), URI: key.URL(), QRPNG: qr}, nil
}

// qrPNG is uri's QR code (error correction M) as a PNG data URL.
func qrPNG(uri string) (string, error) {
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err == nil {
		code, err = barcode.Scale(code, qrSize, qrSize)
	}
	var buf bytes.Buffer
	if err == nil {
		err = png.Encode(&buf, code)
	}
	if err != nil {
		return "", fmt.Errorf("auth: QR code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// ConfirmTOTP confirms the user's unconfirmed factor id with a first code
// from the app, and gives the user new recovery codes, in one transaction
// (with the change ctx carries: the audit event, the mail). A wrong code
// counts towards the lock as at sign-in. ENOTFOUND for no such unconfirmed
// factor of the user; EINVALID when the user has a confirmed one.
func (s *Service) ConfirmTOTP(ctx context.Context, userID, id, code string) (*ConfirmedTOTP, error) {
	f, err := s.Store.FindTOTPFactor(ctx, userID, id)
	if err != nil {
		return nil, fmt.Errorf("auth: find TOTP factor: %w", err)
	}
	if f.Confirmed() {
		return nil, latchkey.Errorf(latchkey.EINVALID, "this factor is already confirmed")
	}
	step, err := s.matchTOTP(ctx, f, code)
	if err != nil {
		return nil, err
	}
	codes, macs, err := s.newRecoveryCodes(userID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.Store.ConfirmTOTPFactor(ctx, userID, id, step, macs, now); err != nil {
		return nil, fmt.Errorf("auth: confirm TOTP factor: %w", err)
	}
	f.ConfirmedAt, f.LastStep, f.LastUsedAt, f.Failures = now, step, now, 0
	return &ConfirmedTOTP{Factor: f, RecoveryCodes: codes}, nil
}

// VerifyTOTP accepts code for the user's confirmed factor, and spends its
// time step and every earlier one. It answers EINVALIDCREDENTIALS for a
// wrong, reused or malformed code and for a user without a confirmed
// factor, and ERATELIMITED with RetryAfter while TOTP is locked (joined
// with ErrTOTPLockedNow for the wrong code that locked it).
func (s *Service) VerifyTOTP(ctx context.Context, userID, code string) (*latchkey.TOTPFactor, error) {
	f, err := s.Store.ConfirmedTOTPFactor(ctx, userID)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil, errWrongCode
	} else if err != nil {
		return nil, fmt.Errorf("auth: find TOTP factor: %w", err)
	}
	step, err := s.matchTOTP(ctx, f, code)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.Store.AcceptTOTPStep(ctx, f.ID, step, now); err != nil {
		// Lost to a request with the same code, or locked meanwhile.
		return nil, totpErr(err)
	}
	f.LastStep, f.LastUsedAt, f.Failures = step, now, 0
	return f, nil
}

// matchTOTP returns the time step whose code is code, after the factor's
// last accepted step. Malformed input (anything but 6 ASCII digits, which
// pquerna/otp would trim or reject itself) is refused uncounted: it is
// not a guess at the secret. A wrong or reused code is counted.
func (s *Service) matchTOTP(ctx context.Context, f *latchkey.TOTPFactor, code string) (int64, error) {
	if !validCode(code) {
		return 0, errWrongCode
	}
	now := s.now()
	if f.Locked(now) {
		return 0, lockedErr(f.LockedUntil, now)
	}
	raw, err := s.TOTPSealer.Open(f.Secret, totpAAD(f))
	if err != nil {
		return 0, fmt.Errorf("auth: open TOTP secret of factor %s: %w", f.ID, err)
	}
	step, ok, err := matchStep(b32.EncodeToString(raw), code, now.Unix()/TOTPPeriod)
	if err != nil {
		return 0, err
	}
	if ok && step > f.LastStep {
		return step, nil
	}
	_, locked, err := s.Store.RecordTOTPFailure(ctx, f.ID, now)
	if err != nil {
		return 0, totpErr(err)
	}
	if locked {
		return 0, errors.Join(lockedErr(now.Add(latchkey.TOTPLockout), now), ErrTOTPLockedNow)
	}
	return 0, errWrongCode
}

// matchStep compares code with the codes of the steps around current, all
// of them in constant time, and returns the latest that matches (two
// steps share a code one time in a million; the latest is the one not yet
// spent, if either is).
func matchStep(secret, code string, current int64) (step int64, ok bool, err error) {
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := hotp.GenerateCodeCustom(secret, uint64(current+d), totpOpts)
		if err != nil {
			return 0, false, fmt.Errorf("auth: TOTP code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, ok = current+d, true
		}
	}
	return step, ok, nil
}

// lockedErr is the answer while TOTP is locked until until.
func lockedErr(until, now time.Time) error {
	return &latchkey.Error{
		Code:       latchkey.ERATELIMITED,
		Message:    "too many wrong codes; two-factor codes are locked for a while, recovery codes still work",
		RetryAfter: max(time.Second, until.Sub(now).Round(time.Second)),
	}
}

// totpErr passes on the store's answers that are the caller's (wrong,
// locked) and wraps the others.
func totpErr(err error) error {
	switch latchkey.ErrorCode(err) {
	case latchkey.EINVALIDCREDENTIALS:
		return errWrongCode
	case latchkey.ERATELIMITED:
		return err
	}
	return fmt.Errorf("auth: TOTP: %w", err)
}
