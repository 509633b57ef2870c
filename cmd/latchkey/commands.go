package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/token"
)

// configured parses a subcommand's flags and configuration.
func configured(name string, args []string, getenv func(string) string, stdout io.Writer, extra func(*flag.FlagSet)) (app.Config, []string, error) {
	fs, parse := newFlags(name, getenv)
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return app.Config{}, nil, err
	}
	cfg, err := parse()
	if err != nil {
		return app.Config{}, nil, err
	}
	return cfg, fs.Args(), nil
}

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := configured("migrate", args, getenv, stdout, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("migrate: unexpected argument %q", rest[0])
	}
	db, err := app.OpenStore(ctx, &cfg)
	if err != nil {
		return err
	}
	_, sealed, err := app.OpenSealer(ctx, &cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	if sealed > 0 {
		fmt.Fprintf(stdout, "encrypted %d signing keys stored in plain text\n", sealed)
	}
	fmt.Fprintln(stdout, "schema up to date")
	return nil
}

func cmdUserCreate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var email, name, role *string
	var fromStdin *bool
	cfg, rest, err := configured("user create", args, getenv, stdout, func(fs *flag.FlagSet) {
		email = fs.String("email", "", "the user's email (required)")
		name = fs.String("name", "", "the user's name")
		role = fs.String("role", "user", "user or admin")
		fromStdin = fs.Bool("password-stdin", false, "read the password from standard input (required; passwords never go in flags)")
	})
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("user create: unexpected argument %q", rest[0])
	case *email == "":
		return usagef("user create: --email is required")
	case !*fromStdin:
		return usagef("user create: --password-stdin is required; the password is read from standard input")
	case !latchkey.Role(*role).Valid():
		return usagef("user create: --role must be user or admin")
	}
	pw, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("read password: %w", err)
	}
	pw = strings.TrimRight(pw, "\r\n")
	if pw == "" {
		return usagef("user create: no password on standard input")
	}
	a, err := app.New(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	ev := &latchkey.AuditEvent{Type: latchkey.AuditSignup, UserAgent: "latchkey user create", Reason: "role=" + *role}
	// The operator vouches for the address: it is verified.
	u, err := a.Auth.NewUser(latchkey.WithAudit(ctx, ev), *email, pw, *name, latchkey.Role(*role), true)
	switch latchkey.ErrorCode(err) {
	case "":
	case latchkey.EVALIDATION:
		var fields []string
		if e := (*latchkey.Error)(nil); errors.As(err, &e) {
			for _, f := range e.Fields {
				fields = append(fields, f.Field+" "+f.Message)
			}
		}
		return usagef("user create: %s", strings.Join(fields, "; "))
	case latchkey.EEMAILTAKEN:
		return fmt.Errorf("user create: a user with email %s exists", *email)
	default:
		return fmt.Errorf("user create: %w", err)
	}
	fmt.Fprintf(stdout, "created user %s (%s, role %s)\n", printable(u.ID), printable(u.Email), printable(string(u.Role)))
	return nil
}

func cmdKeysRotate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := configured("keys rotate", args, getenv, stdout, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("keys rotate: unexpected argument %q", rest[0])
	}
	cfg.MustExist = true
	db, err := app.OpenStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	// OpenSealer checks that the key-encryption key opens the keys there
	// already, so the new key is sealed under the one the servers use.
	sealer, _, err := app.OpenSealer(ctx, &cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	k, err := token.Rotate(ctx, db, sealer, time.Now())
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	fmt.Fprintf(stdout, "new signing key %s; running servers pick it up within seconds\n", printable(k.ID))
	return nil
}

func cmdTokenInspect(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := configured("token inspect", args, getenv, stdout, nil)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("token inspect: want exactly one TOKEN argument")
	}
	raw := rest[0]
	// Show what the token says before judging it, so an operator can see
	// why it fails. Decoding is not trusting: the verdict comes below.
	parsed, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		return usagef("token inspect: not a JWT")
	}
	var doc strings.Builder
	out := json.NewEncoder(&doc)
	out.SetIndent("", "  ")
	_ = out.Encode(map[string]any{"header": parsed.Header, "claims": parsed.Claims})
	// encoding/json escapes C0 controls but leaves DEL, C1, bidirectional
	// and zero-width characters raw; printable escapes them one line at a
	// time (as JSON's own \uXXXX but for DEL and beyond U+FFFF, which get
	// Go's \x7f and \U escapes).
	for line := range strings.Lines(doc.String()) {
		fmt.Fprintln(stdout, printable(strings.TrimSuffix(line, "\n")))
	}

	cfg.MustExist = true
	a, err := app.New(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Revoked.Load(ctx, a.Store); err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	c, err := a.Verifier.Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("token inspect: %w", err)
	}
	fmt.Fprintf(stdout, "valid: subject %s, session %s, expires %s\n", printable(c.Subject), printable(c.SessionID), c.ExpiresAt.Format(time.RFC3339))
	return nil
}
