package main

import "github.com/urfave/cli/v2"

// `nettool serve` gathers the tutorial's server side; each server registers
// itself with registerServe from its own file.
func init() {
	registerCommand(800, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:        "serve",
			Usage:       "run the tutorial's servers on loopback: dns, echo, http, and a Prometheus probe exporter (metrics)",
			Description: "Each server binds to 127.0.0.1 by default and logs what it sees to stderr. Ctrl-C stops it cleanly.",
			Subcommands: buildCommands(e, serveSpecs, ""),
		}
	})
}
