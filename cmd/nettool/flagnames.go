package main

import "github.com/urfave/cli/v2"

// Flags whose names are worked out once. urfave's Names runs a regexp over
// every name on every call, and before a command's action it asks, for
// every flag, whether any flag is set by that name: thousands of regexps for
// a command with forty flags, most of a short run's start-up. Each wrapper
// embeds the concrete flag, so every method urfave looks for (separators,
// docs, counts) is still there; code that switches on a flag's type asks
// plainFlag(f). Runs that print help keep the plain flags (cacheFlagNames is
// not called for them), except help and version, which urfave adds itself.

type (
	namedBoolFlag struct {
		*cli.BoolFlag
		names []string
	}
	namedStringFlag struct {
		*cli.StringFlag
		names []string
	}
	namedStringSliceFlag struct {
		*cli.StringSliceFlag
		names []string
	}
	namedIntFlag struct {
		*cli.IntFlag
		names []string
	}
	namedFloat64Flag struct {
		*cli.Float64Flag
		names []string
	}
	namedDurationFlag struct {
		*cli.DurationFlag
		names []string
	}
	namedGenericFlag struct {
		*cli.GenericFlag
		names []string
	}
)

func (f *namedBoolFlag) Names() []string        { return f.names }
func (f *namedStringFlag) Names() []string      { return f.names }
func (f *namedStringSliceFlag) Names() []string { return f.names }
func (f *namedIntFlag) Names() []string         { return f.names }
func (f *namedFloat64Flag) Names() []string     { return f.names }
func (f *namedDurationFlag) Names() []string    { return f.names }
func (f *namedGenericFlag) Names() []string     { return f.names }

func (f *namedBoolFlag) plain() cli.Flag        { return f.BoolFlag }
func (f *namedStringFlag) plain() cli.Flag      { return f.StringFlag }
func (f *namedStringSliceFlag) plain() cli.Flag { return f.StringSliceFlag }
func (f *namedIntFlag) plain() cli.Flag         { return f.IntFlag }
func (f *namedFloat64Flag) plain() cli.Flag     { return f.Float64Flag }
func (f *namedDurationFlag) plain() cli.Flag    { return f.DurationFlag }
func (f *namedGenericFlag) plain() cli.Flag     { return f.GenericFlag }

// flagNames is urfave's FlagNames for names that hold no comma or space
// (nettool's never do), without the regexp.
func flagNames(name string, aliases []string) []string {
	if len(aliases) == 0 {
		return []string{name}
	}
	return append([]string{name}, aliases...)
}

// withCachedNames wraps f when it is of a type nettool uses.
func withCachedNames(f cli.Flag) cli.Flag {
	switch t := f.(type) {
	case *cli.BoolFlag:
		return &namedBoolFlag{t, flagNames(t.Name, t.Aliases)}
	case *cli.StringFlag:
		return &namedStringFlag{t, flagNames(t.Name, t.Aliases)}
	case *cli.StringSliceFlag:
		return &namedStringSliceFlag{t, flagNames(t.Name, t.Aliases)}
	case *cli.IntFlag:
		return &namedIntFlag{t, flagNames(t.Name, t.Aliases)}
	case *cli.Float64Flag:
		return &namedFloat64Flag{t, flagNames(t.Name, t.Aliases)}
	case *cli.DurationFlag:
		return &namedDurationFlag{t, flagNames(t.Name, t.Aliases)}
	case *cli.GenericFlag:
		return &namedGenericFlag{t, flagNames(t.Name, t.Aliases)}
	}
	return f
}

// namesOf is f.Names() without urfave's regexp for the flag types nettool
// uses (wrapped or not: urfave adds its help flag after the wrapping).
func namesOf(f cli.Flag) []string { return withCachedNames(f).Names() }

// plainFlag is the flag a wrapper holds, or f itself.
func plainFlag(f cli.Flag) cli.Flag {
	if p, ok := f.(interface{ plain() cli.Flag }); ok {
		return p.plain()
	}
	return f
}

// cacheFlagNames wraps every flag of the app and its commands.
func cacheFlagNames(app *cli.App) {
	app.Flags = cachedNames(app.Flags)
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			c.Flags = cachedNames(c.Flags)
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
}

func cachedNames(flags []cli.Flag) []cli.Flag {
	out := make([]cli.Flag, len(flags))
	for i, f := range flags {
		out[i] = withCachedNames(f)
	}
	return out
}
