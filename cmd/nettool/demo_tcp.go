package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/nettool/nettool/serve"
)

func init() {
	registerDemo(300, "connect: a TCP connection from a port the OS picks, and the echo server", func(ctx context.Context, d *demo) error {
		srv, err := serve.EchoListen("127.0.0.1:0", serve.EchoOptions{Log: io.Discard})
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx) }()
		defer func() { cancel(); <-done }()
		addr := srv.Addr().String()
		d.say("The tutorial's echo server is listening on %s (the server's port is fixed).", addr)
		d.say("Each connection goes out from a port the OS picks for the client: watch the \"from\" address change.")
		if err := d.expect(ctx, 0, "tcp", addr, "-c", "3", "-i", "100ms"); err != nil {
			return err
		}
		d.say("Now the tutorial's client: send a message; the server reads it 16 bytes at a time and sends each chunk back.")
		if err := d.expect(ctx, 0, "tcp", addr, "--send", "This is the message.  It will be repeated."); err != nil {
			return err
		}
		d.say("A connect scan of a few ports around it: open is the echo server; closed ports answered with a reset.")
		port := srv.Addr().(*net.TCPAddr).Port
		ports := fmt.Sprintf("%d-%d", max(port-2, 1), min(port+2, 65535))
		return d.expect(ctx, 0, "tcp", "127.0.0.1", "-p", ports, "--show-closed", "-q")
	})
}
