//go:build !urfave_cli_no_docs

package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// `nettool docs --man|--markdown` prints the reference generated from the
// app itself; docs/nettool.1 and docs/reference.md are its checked-in output
// and a test fails when they drift from the code. A release build with
// -tags urfave_cli_no_docs leaves this command and urfave's markdown and
// man-page code out, which saves their start-up work on every run.
func init() {
	registerCommand(920, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:   "docs",
			Usage:  "print the man page (--man) or the markdown reference (--markdown) generated from the CLI",
			Hidden: true,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "man", Usage: "man page, section 1"},
				&cli.BoolFlag{Name: "markdown", Usage: "markdown reference"},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() > 0 || c.Bool("man") == c.Bool("markdown") {
					return usageErrorf("want exactly one of --man or --markdown")
				}
				app := c.App
				var s string
				var err error
				if c.Bool("man") {
					s, err = app.ToManWithSection(1)
				} else {
					s, err = app.ToMarkdown()
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(e.stdout, s)
				return err
			},
		}
	})
}
