package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nettool/nettool/probe"
)

// Exit codes, documented in README.md and in `nettool --help`.
const (
	exitOK          = 0   // every target succeeded
	exitFailed      = 1   // the probe ran and a target failed
	exitUsage       = 2   // usage error or bad input
	exitLocal       = 3   // a local problem stopped the probe (permissions, no network)
	exitInterrupted = 130 // Ctrl-C
)

// exitCodes is the table of exit codes, for --help, the man page and the
// markdown reference.
var exitCodes = []struct{ code, text string }{
	{"0", "every target succeeded (get: any HTTP response, unless --fail and status >= 400)"},
	{"1", "the probe ran and a target failed: no reply, refused or filtered,\nNXDOMAIN/NODATA/SERVFAIL/REFUSED, no external-IP consensus; the output could not be written"},
	{"2", "usage error or bad input: bad flag, malformed name/port/URL, unreadable file"},
	{"3", "a local problem stopped the probe: no permission for ICMP sockets, no usable network"},
	{"130", "interrupted (ping prints its summary first and exits by its replies)"},
}

// exitCodeHelp is the EXIT CODES section of --help.
var exitCodeHelp = func() string {
	var b strings.Builder
	b.WriteString("EXIT CODES:\n")
	for _, c := range exitCodes {
		for i, line := range strings.Split(c.text, "\n") {
			code := ""
			if i == 0 {
				code = c.code
			}
			fmt.Fprintf(&b, "   %-4s %s\n", code, line)
		}
	}
	return b.String()
}()

// envHelp is the ENVIRONMENT section of --help, the man page and the
// markdown reference.
var envHelp = []string{
	"Every flag of a command can also be set as NETTOOL_<COMMAND>_<FLAG> (--timeout of resolve is",
	"NETTOOL_RESOLVE_TIMEOUT); the output flags also as NETTOOL_OUTPUT, NETTOOL_JSON, NETTOOL_NO_COLOR",
	"and NETTOOL_QUIET, the command's own variable winning. A flag on the command line wins. The variable",
	"of a repeatable flag gives one value, as typed. NO_COLOR turns colour off.",
}

// exitError carries an exit code out of a command. An empty msg means the
// command has already said everything it had to say (the failed result is in
// the output).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// errFailed ends a command with exit 1 after its results have been printed.
var errFailed = &exitError{code: exitFailed}

// errInterrupted ends a command with exit 130 after what was measured has
// been printed.
var errInterrupted = &exitError{code: exitInterrupted}

// exitWith returns an error that makes nettool exit with code after the
// results have been printed.
func exitWith(code int) error {
	if code == exitOK {
		return nil
	}
	return &exitError{code: code}
}

// usageErrorf is a usage error raised by the CLI layer itself.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// codeFor maps an error returned by a command to an exit code and the
// message to print (empty: print nothing).
func codeFor(err error) (int, string) {
	if err == nil {
		return exitOK, ""
	}
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return ee.code, ee.msg
	case probe.IsUsage(err):
		return exitUsage, err.Error()
	case probe.IsLocal(err):
		return exitLocal, err.Error()
	case probe.IsCanceled(err):
		return exitInterrupted, "interrupted"
	}
	return exitFailed, err.Error()
}
