package main

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzArgs feeds arbitrary command lines (arguments separated by NUL, which
// no real argument can hold) to the whole CLI plumbing: the flag-reordering
// rewrite, urfave's parsing, the usage-error path and the exit codes, on the
// test-only argdump command, which touches no network. Whatever the input:
// no panic, a documented exit code, at most one line on stderr, and no raw
// escape byte from the arguments on the terminal.
func FuzzArgs(f *testing.F) {
	for _, s := range []string{
		"a\x00b",
		"a\x00-c\x003\x00b\x00--short",
		"--type=MX\x00a\x00--type\x00TXT",
		"a\x00--\x00-c\x009",
		"-\x00@127.0.0.1\x00+short",
		"-c",
		"-c\x00x",
		"--count=99999999999999999999",
		"--nope\x1b[31m",
		"-h\x00a",
		"--json\x00-o\x00text",
		"-o\x00yaml",
		"fail",
		"a\x00--generate-bash-completion",
		"--\x00--",
		"-t\x00-c\x00--json",
		"\x1b]0;title\x07",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"nettool", "argdump"}, args...), strings.NewReader(""), &out, &errb)
		errs := errb.String()
		switch code {
		case exitOK, exitUsage:
		case exitFailed:
			if !slices.Contains(args, "fail") {
				t.Fatalf("%q: exit 1 (%q)", args, errs)
			}
		default:
			t.Fatalf("%q: exit %d (%q)", args, code, errs)
		}
		if code != exitOK && (!strings.HasPrefix(errs, "nettool: ") || strings.Count(errs, "\n") != 1) {
			t.Fatalf("%q: exit %d with stderr %q", args, code, errs)
		}
		if strings.ContainsAny(errs, "\x1b\x07\u009b\u202e") || !utf8.ValidString(errs) {
			t.Fatalf("%q: raw control bytes on stderr: %q", args, errs)
		}

		// The rewrite, on the real command tree, is stable for leaf
		// commands: rewriting its own output changes nothing. (Under a
		// parent command an unknown subcommand is left for urfave to
		// report, "--" and all.)
		e := &appEnv{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
		app := newApp(e, nil)
		for _, cmd := range [][]string{{"get"}, {"tcp"}, {"myip"}, {"serve", "http"}, {"serve", "echo"}, {"serve", "dns"}} {
			full := append(append([]string{"nettool"}, cmd...), args...)
			once := reorderArgs(app, full)
			if twice := reorderArgs(app, once); !slices.Equal(once, twice) {
				t.Fatalf("%q: %q then %q", full, once, twice)
			}
		}
	})
}

// A flag that needs a value, written last without one, is a usage error
// naming the flag. (Found by FuzzArgs: the rewrite used to put "--" after it,
// which the flag then took as its value: `get URL -X` sent the method "--".)
func TestArgsFlagValueMissingAtEnd(t *testing.T) {
	for _, args := range [][]string{
		{"argdump", "a", "-t"},
		{"argdump", "a", "--type"},
		{"get", "127.0.0.1:1", "-X"},
		{"tcp", "127.0.0.1:1", "-c"},
	} {
		out, errs, code := runCLI(t, args...)
		flag := args[len(args)-1] // named as typed
		if code != exitUsage || !strings.Contains(errs, "flag needs an argument: "+flag) || out != "" {
			t.Errorf("%q: exit %d out %q err %q", args, code, out, errs)
		}
	}
}

// A --cacert that never ends (/dev/zero) is a usage error after the cap,
// not all the machine's memory.
func TestArgsCACertIsCapped(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here")
	}
	for _, args := range [][]string{
		{"get", "127.0.0.1:1", "--cacert", "/dev/zero"},
		{"tcp", "127.0.0.1:1", "--tls", "--cacert", "/dev/zero"},
	} {
		out, errs, code := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errs, "cannot read --cacert: /dev/zero is larger than 16 MiB") || out != "" {
			t.Errorf("%q: exit %d out %q err %q", args, code, out, errs)
		}
	}
}
