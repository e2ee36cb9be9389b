package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/serve"
)

func init() {
	registerServe(200, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:      "echo",
			Usage:     "the tutorial's TCP echo server: reads small chunks, logs each one, sends it back",
			ArgsUsage: "[ADDR]",
			Description: "Listens on ADDR (default " + serve.EchoDefaultAddr + "; port 0 picks a free one), prints the bound\n" +
				"address on stdout, and logs every client and every chunk (escaped) on stderr.\n" +
				"Try it with: nettool tcp 127.0.0.1:10000 --send 'This is the message.  It will be repeated.'",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "chunk", Value: 16, Usage: "bytes read and echoed at a time"},
				&cli.DurationFlag{Name: "idle-timeout", Value: 5 * time.Minute, Usage: "disconnect a client silent this long"},
				&cli.IntFlag{Name: "max-clients", Value: 1024, Usage: "clients served at once"},
			},
			Action: func(c *cli.Context) error {
				p, err := e.printerFor(c)
				if err != nil {
					return err
				}
				if c.NArg() > 1 {
					return usageErrorf("one address at most")
				}
				addr := serve.EchoDefaultAddr
				if c.NArg() == 1 {
					a, err := probe.ParseListenAddr(c.Args().First(), 10000)
					if err != nil {
						return err
					}
					addr = a
				}
				chunk := c.Int("chunk")
				if chunk < 1 || chunk > 1<<20 {
					return usageErrorf("bad --chunk %d (want 1 to 1048576)", chunk)
				}
				if c.Int("max-clients") < 1 || c.Duration("idle-timeout") <= 0 {
					return usageErrorf("--max-clients and --idle-timeout must be positive")
				}
				logw := e.stderr
				if p.Quiet() {
					logw = nil
				}
				srv, err := serve.EchoListen(addr, serve.EchoOptions{
					Chunk: chunk, IdleTimeout: c.Duration("idle-timeout"), MaxClients: c.Int("max-clients"), Log: logw,
				})
				if err != nil {
					return probe.Localf("cannot listen on %s: %v", addr, err)
				}
				bound := srv.Addr().String()
				p.TextLine("echo server listening on %s (reads %d bytes at a time; Ctrl-C stops it)", bound, chunk)
				if !p.IsText() {
					p.Doc(map[string]any{"type": "echo_listening", "address": bound, "chunk": chunk})
				}
				_ = p.Flush()
				if err := srv.Serve(e.ctx); err != nil {
					return probe.Localf("echo server: %s", output.Escape(err.Error()))
				}
				p.Info("echo server on %s stopped", bound)
				return nil
			},
		}
	})
}
