package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/app"
)

// cmdUserUpdate is `user disable` and `user verify`: upd applied to the
// user named by --email or --id, as an admin's PATCH would, and done (a
// format with the user's id and email) printed.
func cmdUserUpdate(ctx context.Context, name string, args []string, getenv func(string) string, stdout io.Writer, upd latchkey.UserUpdate, done string) error {
	return cmdUserAction(ctx, name, args, getenv, stdout, done, func(a *app.App, u *latchkey.User, c auth.Client) error {
		_, err := a.Auth.UpdateUser(ctx, "", u.ID, upd, c)
		return err
	})
}

// cmdUserResetMFA is `user reset-mfa`: the admin escape hatch of POST
// /api/admin/users/{id}/mfa/reset for the user named by --email or --id.
func cmdUserResetMFA(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return cmdUserAction(ctx, "user reset-mfa", args, getenv, stdout,
		"removed the second factors (TOTP, passkeys) and recovery codes of user %s (%s); its sessions are revoked\n",
		func(a *app.App, u *latchkey.User, c auth.Client) error {
			return a.Auth.ResetMFA(ctx, "", u.ID, c)
		})
}

// cmdUserAction runs do on the user named by --email or --id (exit 1 for
// an unknown one, 2 with neither or both) and prints done, a format with
// the user's id and email. --id reaches the users of a trusted issuer,
// whose email Latchkey does not keep.
func cmdUserAction(ctx context.Context, name string, args []string, getenv func(string) string, stdout io.Writer, done string,
	do func(a *app.App, u *latchkey.User, c auth.Client) error) error {
	var email, id *string
	cfg, rest, err := configured(name, args, getenv, stdout, func(fs *flag.FlagSet) {
		email = fs.String("email", "", "the user's email (this or --id)")
		id = fs.String("id", "", "the user's id (this or --email): the sub of a trusted issuer's user")
	})
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("%s: unexpected argument %q", name, rest[0])
	case (*email == "") == (*id == ""):
		return usagef("%s: give --email or --id (one of them)", name)
	}
	cfg.MustExist = true
	a, err := app.New(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	var u *latchkey.User
	what := "email " + printable(*email)
	if *id != "" {
		what = "id " + printable(*id)
		u, err = a.Store.FindUserByID(ctx, *id)
	} else {
		u, err = a.Store.FindUserByEmail(ctx, *email)
	}
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return fmt.Errorf("%s: no user with %s", name, what)
	} else if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := do(a, u, auth.Client{UserAgent: "latchkey " + name}); err != nil {
		return fmt.Errorf("%s: %s", name, latchkey.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, done, printable(u.ID), printable(u.Email))
	return nil
}

func cmdAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var typ *string
	var limit *int
	cfg, rest, err := configured("audit", args, getenv, stdout, func(fs *flag.FlagSet) {
		typ = fs.String("type", "", "only events of this type (signin_failed, user_disabled, ...)")
		limit = fs.Int("limit", 50, "how many events, newest first (1 to 1000)")
	})
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("audit: unexpected argument %q", rest[0])
	case *limit < 1 || *limit > 1000:
		return usagef("audit: --limit must be from 1 to 1000")
	}
	cfg.MustExist = true
	db, err := app.OpenStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	events, _, err := db.ListAudit(ctx, latchkey.AuditFilter{Type: *typ, Limit: *limit})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	// COUNT is how many occurrences a row stands for: rejections of
	// unauthenticated requests are recorded once a minute with their count.
	fmt.Fprintln(w, "AT\tTYPE\tCOUNT\tUSER\tACTOR\tSESSION\tIP\tREASON")
	for _, e := range events {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), cell(e.Type), e.Count,
			cell(e.UserID), cell(e.ActorID), cell(e.SessionID), cell(e.IP), cell(e.Reason))
	}
	return w.Flush()
}

// cell is s as an audit column: printable, so neither a tab nor a newline
// in it can break the table, and "-" when empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return printable(s)
}
