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

func cmdUserDisable(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var email *string
	cfg, rest, err := configured("user disable", args, getenv, stdout, func(fs *flag.FlagSet) {
		email = fs.String("email", "", "the user's email (required)")
	})
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("user disable: unexpected argument %q", rest[0])
	case *email == "":
		return usagef("user disable: --email is required")
	}
	cfg.MustExist = true
	a, err := app.New(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Store.FindUserByEmail(ctx, *email)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return fmt.Errorf("user disable: no user with email %s", *email)
	} else if err != nil {
		return fmt.Errorf("user disable: %w", err)
	}
	disabled := true
	_, err = a.Auth.UpdateUser(ctx, "", u.ID, latchkey.UserUpdate{Disabled: &disabled},
		auth.Client{UserAgent: "latchkey user disable"})
	if err != nil {
		return fmt.Errorf("user disable: %s", latchkey.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "disabled user %s (%s); its sessions are revoked, running servers refuse its tokens within seconds\n", printable(u.ID), printable(u.Email))
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
