package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/serve"
)

func init() {
	registerServe(300, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:      "http",
			Usage:     "the tutorial's web server: a page, /mirror (your request byte for byte), /ip, test endpoints",
			ArgsUsage: "[ADDR]",
			Description: "Listens on ADDR (default " + serve.HTTPDefaultAddr + ", loopback only; port 0 picks a free port)\n" +
				"and prints the URL it serves on stdout. Each request is logged to stderr. Ctrl-C stops it.\n\n" +
				"Endpoints:\n" + serve.HTTPEndpoints,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "tls", Usage: "serve HTTPS with a self-signed certificate generated at start (printed on stderr)"},
			},
			Action: func(c *cli.Context) error {
				p, err := e.printerFor(c)
				if err != nil {
					return err
				}
				if c.NArg() > 1 {
					return usageErrorf("want at most one ADDR, got %d arguments", c.NArg())
				}
				addr := serve.HTTPDefaultAddr
				if c.NArg() == 1 {
					if addr, err = probe.ParseListenAddr(c.Args().First(), 8000); err != nil {
						return err
					}
				}
				var accessLog io.Writer = e.stderr
				if p.Quiet() {
					accessLog = io.Discard
				}
				s := serve.NewHTTPServer(serve.HTTPOptions{Addr: addr, TLS: c.Bool("tls"), Log: accessLog})
				if err := s.Start(e.ctx); err != nil {
					return probe.Localf("cannot listen on %s: %v", addr, err)
				}
				p.Doc(map[string]any{"type": "serve_http", "url": s.URL(), "address": s.Addr(), "tls": c.Bool("tls")})
				proto := "HTTP"
				if c.Bool("tls") {
					proto = "HTTPS"
				}
				p.TextLine("serving %s on %s (Ctrl-C stops)", proto, s.URL())
				if pem := s.CertPEM(); pem != nil {
					p.Info("certificate (trust it with --cacert FILE):\n%s", pem)
				}
				_ = p.Flush()
				err = s.Wait()
				p.Info("stopped")
				if err != nil {
					return fmt.Errorf("serve http: %w", err)
				}
				return nil
			},
		}
	})
}
