package main

import (
	"context"
	"time"

	"github.com/nettool/nettool/serve"
)

// The first step of the journey: a name becomes an address. The demo starts
// `nettool serve dns` with its built-in example zone on a loopback port and
// asks it the questions a browser's resolver asks.
func init() {
	registerDemo(100, "resolve: a name becomes an address (DNS)", func(ctx context.Context, d *demo) error {
		srv, err := serve.NewDNSServer(serve.DNSOptions{Addr: "127.0.0.1:0"})
		if err != nil {
			return err
		}
		if err := srv.Start(ctx); err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		at := "@" + srv.Addr()
		d.say("Before a browser can connect to www.example.test it asks a DNS server for the address.\n"+
			"Here the server is nettool serve dns, started on %s with its built-in example zone.\n"+
			"www is an alias (CNAME) for host, which has an IPv4 (A) and an IPv6 (AAAA) address.", srv.Addr())
		if err := d.expect(ctx, exitOK, "resolve", "www.example.test", at); err != nil {
			return err
		}
		d.say("Scripts want only the data, like dig +short:")
		if err := d.expect(ctx, exitOK, "resolve", "www.example.test", "A", at, "+short"); err != nil {
			return err
		}
		d.say("A name that does not exist: the server says NXDOMAIN, and nettool exits 1 so a script notices.")
		if err := d.expect(ctx, exitFailed, "resolve", "nosuch.example.test", "A", at); err != nil {
			return err
		}
		d.say("And backwards, from an address to its name (a PTR record):")
		return d.expect(ctx, exitOK, "resolve", "-x", "127.0.0.1", at, "--short")
	})
}
