package main

import (
	"context"
	"net"

	"github.com/nettool/nettool/serve"
)

func init() {
	registerDemo(400, "GET a page: the request and response, byte for byte", func(ctx context.Context, d *demo) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s := serve.NewHTTPServer(serve.HTTPOptions{Addr: "127.0.0.1:0"})
		if err := s.Start(ctx); err != nil {
			return err
		}
		defer s.Close()
		d.say("nettool serve http is listening on %s (started in-process, loopback only).", s.Addr())
		_, port, _ := net.SplitHostPort(s.Addr())
		d.say("Watch the journey: the name (localhost is always loopback, no DNS), the TCP connection from a")
		d.say("port the OS picked, the request line and headers we send, the status line, headers and")
		d.say("body that come back, and where the time went.")
		if err := d.expect(ctx, 0, "get", "localhost:"+port+"/"); err != nil {
			return err
		}
		d.say("A page that does not exist: the server answers 404 Not Found. It is still a complete")
		d.say("HTTP response, so nettool exits 0 (add --fail to make it exit 1).")
		return d.expect(ctx, 0, "get", "localhost:"+port+"/no-such-page")
	})
}
