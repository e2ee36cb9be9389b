package main

import (
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/exporter"
	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
)

const metricsDefaultAddr = "127.0.0.1:9115"

func init() {
	registerServe(400, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:      "metrics",
			Usage:     "a Prometheus probe exporter (blackbox_exporter's /probe API and module file)",
			ArgsUsage: "[ADDR]",
			Description: "Listens on ADDR (default " + metricsDefaultAddr + ", blackbox_exporter's port, loopback only; every\n" +
				"interface only when given 0.0.0.0 or [::]) and answers Prometheus:\n" +
				"  /probe?target=T&module=M  runs one probe (add debug=true for its log)\n" +
				"  /metrics                  the exporter's own metrics\n" +
				"  /-/reload                 POST: read the module file again (so does SIGHUP)\n" +
				"Modules are read from blackbox_exporter's YAML format (probers http, tcp, icmp, dns, and\n" +
				"nettool's myip and trace); an option nettool does not support is an error, never ignored.\n" +
				"See docs/metrics.md.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "config", Aliases: []string{"config.file"}, Value: "blackbox.yml", Usage: "the module file"},
				&cli.BoolFlag{Name: "check", Aliases: []string{"config.check"}, Usage: "check the module file and exit"},
				&cli.Float64Flag{Name: "timeout-offset", Value: exporter.DefaultTimeoutOffset, Usage: "seconds taken off Prometheus's scrape timeout"},
			},
			Action: func(c *cli.Context) error {
				p, err := e.printerFor(c)
				if err != nil {
					return err
				}
				if c.NArg() > 1 {
					return usageErrorf("want at most one ADDR, got %d arguments", c.NArg())
				}
				addr := metricsDefaultAddr
				if c.NArg() == 1 {
					if addr, err = probe.ParseListenAddr(c.Args().First(), 9115); err != nil {
						return err
					}
				}
				off := c.Float64("timeout-offset")
				if off < 0 || off != off || off > 60 {
					return usageErrorf("bad --timeout-offset %v (want 0 to 60 seconds)", off)
				}
				ex, err := exporter.New(c.String("config"))
				if err != nil {
					return &probe.UsageError{Err: errors.New(output.Escape(err.Error()))}
				}
				ex.TimeoutOffset = off
				if !p.Quiet() {
					ex.Log = e.stderr
				}
				if c.Bool("check") {
					p.TextLine("%s: %d modules, OK", output.Escape(c.String("config")), len(ex.Config().Modules))
					if !p.IsText() {
						p.Doc(map[string]any{"type": "metrics_config", "file": c.String("config"), "modules": len(ex.Config().Modules), "ok": true})
					}
					return nil
				}
				// 0.0.0.0 means IPv4's every interface: Go's "tcp" would
				// make it a dual-stack [::] socket.
				network := "tcp"
				if h, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(h) != nil && net.ParseIP(h).To4() != nil {
					network = "tcp4"
				}
				ln, err := net.Listen(network, addr)
				if err != nil {
					return probe.Localf("cannot listen on %s: %v", addr, err)
				}
				srv := &http.Server{Handler: ex, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
				bound := ln.Addr().String()
				p.TextLine("serving metrics on http://%s/probe (%d modules from %s; Ctrl-C stops)", bound, len(ex.Config().Modules), output.Escape(c.String("config")))
				if !p.IsText() {
					p.Doc(map[string]any{"type": "serve_metrics", "address": bound, "url": "http://" + bound + "/probe", "modules": len(ex.Config().Modules)})
				}
				_ = p.Flush()
				hup := make(chan os.Signal, 1)
				signal.Notify(hup, syscall.SIGHUP)
				defer signal.Stop(hup)
				served := make(chan error, 1)
				go func() { served <- srv.Serve(ln) }()
				for {
					select {
					case <-hup:
						if err := ex.Reload(); err != nil {
							p.Info("reload failed, the old modules stay: %s", output.Escape(err.Error()))
						} else {
							p.Info("reloaded %s: %d modules", output.Escape(c.String("config")), len(ex.Config().Modules))
						}
					case err := <-served:
						return probe.Localf("serve metrics: %v", err)
					case <-e.ctx.Done():
						_ = srv.Close()
						<-served
						p.Info("stopped")
						return nil
					}
				}
			},
		}
	})
}
