//go:build !urfave_cli_no_docs

package main

import (
	"fmt"
	"strings"

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
					s += docsManSections()
				} else {
					s, err = app.ToMarkdown()
					s += docsMarkdownSections()
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

// docsManSections are the sections of --help that urfave's man page leaves
// out: EXIT STATUS and ENVIRONMENT.
func docsManSections() string {
	roff := func(s string) string {
		s = strings.ReplaceAll(s, "\\", "\\e")
		if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
			s = "\\&" + s
		}
		return s
	}
	var b strings.Builder
	b.WriteString("\n.SH EXIT STATUS\n")
	for _, c := range exitCodes {
		fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\n%s\n", c.code, roff(strings.ReplaceAll(c.text, "\n", " ")))
	}
	b.WriteString("\n.SH ENVIRONMENT\n")
	b.WriteString(roff(strings.Join(envHelp, " ")) + "\n")
	return b.String()
}

// docsMarkdownSections are the same sections for the markdown reference.
func docsMarkdownSections() string {
	var b strings.Builder
	b.WriteString("\n# EXIT STATUS\n\n| code | meaning |\n|---|---|\n")
	for _, c := range exitCodes {
		fmt.Fprintf(&b, "| %s | %s |\n", c.code, strings.ReplaceAll(c.text, "\n", " "))
	}
	b.WriteString("\n# ENVIRONMENT\n\n" + strings.Join(envHelp, " ") + "\n")
	return b.String()
}
