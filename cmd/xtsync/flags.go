package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/xtsync/xtsync/pkg/config"
)

// usageError is a bad flag, argument or configuration value: the command
// exits with exitUsage.
type usageError struct{ err error }

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

// usagef returns a usageError; the message should name the flag at fault.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// flagSet is a subcommand's flags (the standard flag package) with its
// usage text.
type flagSet struct {
	*flag.FlagSet
	e        env
	name     string
	synopsis string
	about    string
}

// newFlagSet returns the flag set of subcommand name; synopsis follows the
// command name in the usage line, about explains the command.
func newFlagSet(e env, name, synopsis, about string) *flagSet {
	fs := flag.NewFlagSet("xtsync "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors itself, with the command's name
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, e: e, name: name, synopsis: synopsis, about: about}
}

// parse parses the arguments once. -h prints the usage to stdout and
// returns flag.ErrHelp (exit 0); a bad flag or a positional argument is a
// usageError naming it.
func (f *flagSet) parse(args []string) error {
	err := f.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		f.printUsage(f.e.stdout)
		return flag.ErrHelp
	case err != nil:
		return usagef("%v (see 'xtsync %s -h')", err, f.name)
	case f.NArg() > 0:
		return usagef("unexpected argument %q: this command takes flags only (see 'xtsync %s -h')", f.Arg(0), f.name)
	}
	return nil
}

// configFlag declares --config, the configuration file every command but
// the emulator's takes.
func (f *flagSet) configFlag() *string {
	return f.String("config", "", "configuration `file` (YAML)")
}

// parseConfig parses the arguments, then loads the file --config names.
func (f *flagSet) parseConfig(args []string, path *string) (*config.Config, error) {
	if err := f.parse(args); err != nil {
		return nil, err
	}
	return loadConfig(*path)
}

func (f *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: xtsync %s %s\n\n%s\n", f.name, f.synopsis, f.about)
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprint(w, "\nFlags:\n")
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}
