package main

// The receivers of the revocation feed (issue 15's SSF transmitter):
// `latchkey receiver add`, `list` and `remove`.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/app"
)

// cmdReceiverAdd stores a new receiver and prints its secret, once, alone
// on the last line of stdout, so that a script takes it with `tail -n 1`;
// everything else goes to stderr. The store keeps only its SHA-256.
func cmdReceiverAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var name, audience *string
	cfg, rest, err := configured("receiver add", args, getenv, stdout, func(fs *flag.FlagSet) {
		name = fs.String("name", "", "the receiver's name, unique: one line, at most 100 characters (required)")
		audience = fs.String("audience", "", "the aud of the events it receives, such as its URL (required)")
	})
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("receiver add: unexpected argument %q", rest[0])
	case *name == "":
		return usagef("receiver add: --name is required")
	case *audience == "":
		return usagef("receiver add: --audience is required")
	}
	if err := latchkey.ValidateReceiver(*name, *audience); err != nil {
		return usagef("receiver add: %s", fieldErrors(err))
	}
	a, err := app.New(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	// Through auth, as the admin route: audited (receiver_added).
	r, secret, err := a.Auth.AddReceiver(ctx, "", *name, *audience, auth.Client{UserAgent: "latchkey receiver add"})
	switch latchkey.ErrorCode(err) {
	case "":
	case latchkey.ECONFLICT:
		return fmt.Errorf("receiver add: a receiver named %s exists; remove it first or choose another name", *name)
	default:
		return fmt.Errorf("receiver add: %w", err)
	}
	fmt.Fprintf(stderr, "added receiver %s (audience %s). Its secret follows on standard output, shown this once: "+
		"Latchkey keeps only its hash. The receiver sends it as \"Authorization: Bearer SECRET\".\n",
		printable(r.Name), printable(r.Audience))
	fmt.Fprintln(stdout, secret)
	return nil
}

// fieldErrors is a validation error's fields on one line.
func fieldErrors(err error) string {
	var e *latchkey.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return latchkey.ErrorMessage(err)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, "--"+f.Field+" "+f.Message)
	}
	return strings.Join(out, "; ")
}

// cmdReceiverList prints every receiver: name, audience, when it was
// added and how many streams it has. Never a secret nor its hash.
func cmdReceiverList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := configured("receiver list", args, getenv, stdout, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("receiver list: unexpected argument %q", rest[0])
	}
	cfg.MustExist = true
	db, err := app.OpenStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	rs, err := db.ListReceivers(ctx)
	if err != nil {
		return fmt.Errorf("receiver list: %w", err)
	}
	if len(rs) == 0 {
		fmt.Fprintln(stdout, "no receivers; add one with latchkey receiver add")
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tAUDIENCE\tCREATED\tSTREAMS")
	for _, r := range rs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\n", cell(r.Name), cell(r.Audience), r.CreatedAt.Format(time.RFC3339), r.Streams)
	}
	return w.Flush()
}

// cmdReceiverRemove deletes the receiver with --name and its streams: its
// secret is refused from then on.
func cmdReceiverRemove(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var name *string
	cfg, rest, err := configured("receiver remove", args, getenv, stdout, func(fs *flag.FlagSet) {
		name = fs.String("name", "", "the receiver's name (required)")
	})
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("receiver remove: unexpected argument %q", rest[0])
	case *name == "":
		return usagef("receiver remove: --name is required")
	}
	cfg.MustExist = true
	a, err := app.New(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	switch err := a.Auth.RemoveReceiver(ctx, "", *name, auth.Client{UserAgent: "latchkey receiver remove"}); latchkey.ErrorCode(err) {
	case "":
	case latchkey.ENOTFOUND:
		return fmt.Errorf("receiver remove: no receiver named %s", *name)
	default:
		return fmt.Errorf("receiver remove: %w", err)
	}
	fmt.Fprintf(stdout, "removed receiver %s and its streams; its secret is refused from now on\n", printable(*name))
	return nil
}
