package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// cliLeaves lists every command that runs (path and command).
func cliLeaves(cmds []*cli.Command, parent []string, fn func(path []string, c *cli.Command)) {
	for _, c := range cmds {
		path := append(append([]string(nil), parent...), c.Name)
		if len(c.Subcommands) > 0 {
			cliLeaves(c.Subcommands, path, fn)
			continue
		}
		fn(path, c)
	}
}

// TestEveryNumericFlagRefusesNaNAndNegatives: every int, float and duration
// flag of every command, found by walking the app, refuses NaN, infinities
// and negative numbers with a usage error naming the flag.
func TestEveryNumericFlagRefusesNaNAndNegatives(t *testing.T) {
	e := &appEnv{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	app := newApp(e, []string{"nettool"})
	n := 0
	cliLeaves(app.Commands, nil, func(path []string, c *cli.Command) {
		for _, f := range c.Flags {
			var bad []string
			switch f.(type) {
			case *cli.IntFlag, *cli.Int64Flag:
				bad = []string{"-1"}
			case *cli.Float64Flag:
				bad = []string{"NaN", "-1", "Inf", "-Inf", "nan"}
			case *cli.DurationFlag:
				bad = []string{"-1s", "-1"}
			default:
				continue
			}
			name := f.Names()[0]
			for _, v := range bad {
				n++
				args := append(append([]string(nil), path...), "--"+name, v)
				_, errs, code := runCLI(t, args...)
				if code != exitUsage || !strings.HasPrefix(errs, "nettool: "+strings.Join(path, " ")+": bad --"+name+" ") || strings.Count(errs, "\n") != 1 {
					t.Errorf("%q: exit %d stderr %q, want exit 2 and one line naming --%s", args, code, errs, name)
				}
			}
			// From the variable too.
			if _, ok := f.(*cli.Float64Flag); ok {
				t.Run(name, func(t *testing.T) {
					t.Setenv(envName(strings.Join(path, " "), name), "NaN")
					_, errs, code := runCLI(t, path...)
					if code != exitUsage || !strings.Contains(errs, "bad --"+name+" NaN") {
						t.Errorf("%s=NaN: exit %d stderr %q", envName(strings.Join(path, " "), name), code, errs)
					}
				})
			}
		}
	})
	if n < 30 {
		t.Fatalf("only %d numeric flag values tried: the walk missed commands", n)
	}
}

// TestNumericTextFlagsRefuseNaN: flags that take a number as text (seconds,
// sizes) refuse NaN and negatives too.
func TestNumericTextFlagsRefuseNaN(t *testing.T) {
	for _, args := range [][]string{
		{"ping", "127.0.0.1", "-i", "NaN"}, {"ping", "127.0.0.1", "-W", "-1"}, {"ping", "127.0.0.1", "--gap", "Inf"}, {"ping", "127.0.0.1", "-w", "nan"},
		{"get", "127.0.0.1:1", "--max-size", "-1"}, {"get", "127.0.0.1:1", "--max-size", "NaN"}, {"get", "127.0.0.1:1", "--show-max", "-5"}, {"get", "127.0.0.1:1", "--max-header-size", "Inf"},
		{"resolve", "x.test", "@127.0.0.1:1", "+timeout=NaN"}, {"resolve", "x.test", "@127.0.0.1:1", "+tries=-1"},
	} {
		_, errs, code := runCLI(t, args...)
		if code != exitUsage || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: exit %d stderr %q, want exit 2", args, code, errs)
		}
	}
}
