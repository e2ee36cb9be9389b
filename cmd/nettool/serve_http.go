package main

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

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
					if addr, err = serveHTTPAddr(c.Args().First()); err != nil {
						return err
					}
				}
				s := serve.NewHTTPServer(serve.HTTPOptions{Addr: addr, TLS: c.Bool("tls"), Log: e.stderr})
				if err := s.Start(e.ctx); err != nil {
					return probe.Localf("cannot listen on %s: %v", addr, err)
				}
				p.Doc(map[string]any{"type": "serve_http", "url": s.URL(), "address": s.Addr(), "tls": c.Bool("tls")})
				p.TextLine("serving HTTP on %s (Ctrl-C stops)", s.URL())
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

// serveHTTPAddr reads ADDR: "host", "host:port", ":port", "[::1]:port"; port
// 0 asks the OS for a free port.
func serveHTTPAddr(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = strings.Trim(s, "[]"), "8000"
	}
	if host == "" {
		host = "127.0.0.1"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", usageErrorf("bad address %q: port must be 0-65535", s)
	}
	if _, err := netip.ParseAddr(host); err != nil && host != "localhost" || strings.ContainsAny(host, "[]") {
		return "", usageErrorf("bad address %q: want an IP address (or localhost) to listen on", s)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}
