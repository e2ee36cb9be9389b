package main

import (
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionFlag is urfave's hidden flag for shell completion; it must stay
// the last argument.
const completionFlag = "--generate-bash-completion"

// reorderArgs lets flags come after arguments, as users of ping, dig and curl
// expect: `nettool resolve example.com --json`. urfave/cli v2 stops parsing
// flags at the first argument, so the command line is rewritten with every
// flag (and its value) before the arguments, which follow a "--". Flags of
// the app come before the command name as usual.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 || args[len(args)-1] == completionFlag {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	// Global flags before the command name.
	for len(rest) > 0 && isFlagToken(rest[0]) {
		out = append(out, rest[0])
		if rest[0] == "--" {
			return append(out, rest[1:]...)
		}
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return out
	}
	cmd := findCommand(app.Commands, rest[0])
	if cmd == nil {
		return append(out, rest...)
	}
	out = append(out, rest[0])
	return append(out, reorderFor(cmd, rest[1:])...)
}

// reorderFor reorders the arguments of cmd, descending into a subcommand
// named before any argument.
func reorderFor(cmd *cli.Command, args []string) []string {
	var flags, pos []string
	help := false // -h given as a flag (not as some flag's value)
	mixed := mixedForms(cmd.Flags, args)
	canon := func(tok string) string {
		if f := findFlag(cmd.Flags, strings.TrimLeft(tok, "-")); f != nil && mixed[namesOf(f)[0]] {
			return "--" + namesOf(f)[0]
		}
		return tok
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if isFlagToken(a) {
			if short, value, ok := splitAttached(cmd.Flags, a); ok {
				flags = append(flags, canon(short), secondsValue(cmd.Flags, short[1:], value))
				continue
			}
			help = help || a == "-h" || a == "--h" || a == "--help" || a == "-help"
			name := strings.TrimLeft(a, "-")
			if n, v, ok := strings.Cut(name, "="); ok {
				flags = append(flags, canon(a[:len(a)-len(name)]+n)+"="+secondsValue(cmd.Flags, n, v))
				continue
			}
			flags = append(flags, canon(a))
			if takesValue(cmd.Flags, name) {
				if i+1 == len(args) {
					// The value is missing: leave the flag last, with
					// nothing after it, so that urfave reports it (after
					// a "--" the flag would take "--" as its value).
					return flags
				}
				flags = append(flags, secondsValue(cmd.Flags, name, args[i+1]))
				i++
			}
			continue
		}
		if len(pos) == 0 && len(cmd.Subcommands) > 0 {
			if sub := findCommand(cmd.Subcommands, a); sub != nil {
				out := append(flags, a)
				return append(out, reorderFor(sub, args[i+1:])...)
			}
		}
		pos = append(pos, a)
	}
	if len(pos) == 0 || help {
		// With -h the arguments don't matter; urfave would take the first
		// one as a help topic.
		return flags
	}
	if len(cmd.Subcommands) > 0 {
		// A parent command: leave an unknown subcommand name where it is so
		// the usage error names it.
		return append(flags, pos...)
	}
	return append(append(flags, "--"), pos...)
}

// mixedForms finds the flags given under two of their names on one command
// line ("-H a --header b", "-c 3 --count 4"), which users of curl and ping
// mix freely and urfave refuses: those are given to urfave under their first
// name. The others stay as typed, so that a usage error names what the user
// wrote.
func mixedForms(flags []cli.Flag, args []string) map[string]bool {
	seen := map[string]string{}
	mixed := map[string]bool{}
	for _, a := range args {
		if a == "--" {
			break
		}
		if !isFlagToken(a) {
			continue
		}
		name := strings.TrimLeft(a, "-")
		if short, _, ok := splitAttached(flags, a); ok {
			name = short[1:]
		}
		name, _, _ = strings.Cut(name, "=")
		f := findFlag(flags, name)
		if f == nil {
			continue
		}
		first := namesOf(f)[0]
		if prev, ok := seen[first]; ok && prev != name {
			mixed[first] = true
		}
		seen[first] = name
	}
	return mixed
}

// secondsValue lets a duration flag take a bare number of seconds, as
// ping's -i 0.2 and tcping's -i 1 do: "0.2" is "0.2s". Other values and
// other flags are left as they are.
func secondsValue(flags []cli.Flag, name, value string) string {
	if _, ok := findFlag(flags, name).(*cli.DurationFlag); !ok || value == "" {
		return value
	}
	if _, err := strconv.ParseFloat(value, 64); err != nil || strings.ContainsAny(value, "eEnN+") {
		return value
	}
	return value + "s"
}

// splitAttached splits a one-letter flag with its value attached, as ping
// users type it: "-c3" is "-c 3", "-W0.5" is "-W 0.5". A token that names a
// flag as a whole ("-json") is left alone.
func splitAttached(flags []cli.Flag, a string) (string, string, bool) {
	if len(a) < 3 || a[0] != '-' || a[1] == '-' || strings.Contains(a, "=") {
		return "", "", false
	}
	if findFlag(flags, a[1:]) != nil {
		return "", "", false
	}
	f := findFlag(flags, a[1:2])
	if f == nil {
		return "", "", false
	}
	if dg, ok := f.(cli.DocGenerationFlag); !ok || !dg.TakesValue() {
		return "", "", false
	}
	return a[:2], a[2:], true
}

// isFlagToken reports whether a looks like a flag. "-" alone means stdin.
func isFlagToken(a string) bool { return len(a) > 1 && a[0] == '-' }

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether the flag called name needs a value argument.
// Unknown flags are left for urfave to report.
func takesValue(flags []cli.Flag, name string) bool {
	if dg, ok := findFlag(flags, name).(cli.DocGenerationFlag); ok {
		return dg.TakesValue()
	}
	return false
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range namesOf(f) {
			if n == name {
				return plainFlag(f)
			}
		}
	}
	return nil
}
