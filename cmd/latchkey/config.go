package main

import (
	"flag"
	"fmt"

	"github.com/latchkey/latchkey/internal/app"
)

// configFlags registers on fs a flag for every setting the command takes,
// from the configuration table (app.Settings). After parsing, a flag given
// on the command line wins over the environment, which wins over the
// default. Environment values are not made flag defaults, so that -h never
// prints a secret. It returns a function that loads and checks what was
// parsed.
func configFlags(fs *flag.FlagSet, command string, getenv func(string) string) func() (app.Config, error) {
	vals := make(map[string]*string)
	for _, s := range app.Settings {
		if s.Takes(command) {
			vals[s.Env] = fs.String(s.Flag(), s.Default, fmt.Sprintf("%s (%s)", s.Doc, s.Env))
		}
	}
	return func() (app.Config, error) {
		given := make(map[string]bool)
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		return app.Load(command, func(env string) (string, bool) {
			for _, s := range app.Settings {
				if s.Env == env && given[s.Flag()] {
					return *vals[env], true
				}
			}
			v := getenv(env)
			return v, v != ""
		})
	}
}
