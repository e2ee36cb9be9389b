package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// The demo walks the tutorial's journey on loopback: each step starts the
// servers it needs in-process and runs real nettool commands against them,
// printing each command line before its output. Steps register themselves
// from their own files (demo_*.go) with registerDemo.

type demoStep struct {
	order int
	title string
	run   func(ctx context.Context, d *demo) error
}

var demoSteps []demoStep

func registerDemo(order int, title string, run func(ctx context.Context, d *demo) error) {
	demoSteps = append(demoSteps, demoStep{order, title, run})
}

// demo is what a step works with.
type demo struct {
	e     *appEnv
	out   io.Writer
	extra []string // output flags passed through to every command (--no-color)
}

// say prints narration: a few words on what the person is looking at.
func (d *demo) say(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintln(d.out, "  # "+line)
	}
}

// nettool runs one nettool command in-process, as a person would type it,
// and returns its exit code. Its stderr is part of the transcript, in order
// with its stdout, as a terminal would show both: a progress line on the
// demo's own stderr would cut into the step ("asking 2 providers...").
func (d *demo) nettool(ctx context.Context, args ...string) int {
	fmt.Fprintf(d.out, "\n$ nettool %s\n", strings.Join(quoteArgs(args), " "))
	full := append([]string{"nettool"}, args...)
	full = append(full, d.extra...)
	return run(ctx, full, strings.NewReader(""), d.e.stdout, d.e.stdout)
}

// expect runs a command and turns an unexpected exit code into an error.
func (d *demo) expect(ctx context.Context, want int, args ...string) error {
	if got := d.nettool(ctx, args...); got != want {
		return fmt.Errorf("`nettool %s` exited %d, want %d", strings.Join(args, " "), got, want)
	}
	return nil
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$&|;<>*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}

func init() {
	registerCommand(700, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:  "demo",
			Usage: "walk the tutorial's journey on loopback: resolve, ping, connect, GET, echo, myip (no internet needed)",
			Description: "Starts nettool's own servers on 127.0.0.1 and runs real nettool commands against them,\n" +
				"showing each step a browser takes to fetch a page. Nothing leaves loopback.",
			Action: func(c *cli.Context) error {
				if c.NArg() > 0 {
					return usageErrorf("no arguments expected")
				}
				// The demo is text for a person: NETTOOL_OUTPUT or
				// NETTOOL_JSON set in the caller's shell does not turn
				// its commands into JSON.
				d := &demo{e: e, out: e.stdout, extra: []string{"-o", "text"}}
				if c.Bool("no-color") {
					d.extra = append(d.extra, "--no-color")
				}
				steps := append([]demoStep(nil), demoSteps...)
				sort.SliceStable(steps, func(i, j int) bool { return steps[i].order < steps[j].order })
				if len(steps) == 0 {
					fmt.Fprintln(e.stdout, "no demo steps are built into this nettool")
					return nil
				}
				for i, s := range steps {
					fmt.Fprintf(e.stdout, "\n== Step %d: %s ==\n", i+1, s.title)
					if err := s.run(e.ctx, d); err != nil {
						if e.ctx.Err() != nil {
							return errInterrupted
						}
						return fmt.Errorf("step %d (%s): %w", i+1, s.title, err)
					}
				}
				fmt.Fprintln(e.stdout, "\nDone: every step ran on loopback.")
				return nil
			},
		}
	})
}
