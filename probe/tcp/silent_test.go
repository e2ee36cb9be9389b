package tcp

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nettool/nettool/probe"
)

// A server that accepts and never says a word: each conversation ends at its
// own deadline (short and explicit here) with the right outcome; what is
// asserted is how it ended, not when.
func TestSilentServer(t *testing.T) {
	stop := make(chan struct{})
	srv := startServer(t, func(c net.Conn) { <-stop })
	defer close(stop)
	o := func(x Options) Options {
		x.Timeout, x.ReadTimeout = 10*time.Second, 200*time.Millisecond
		return x
	}

	t.Run("send", func(t *testing.T) {
		// Nobody answers: a quiet server is not a failure, the reply ends
		// with "timeout" and nothing in it.
		at := Dial(context.Background(), srv.AddrPort(), 0, o(Options{Send: []byte("hello?")}))
		if !at.OK || at.Sent == nil || at.Sent.Bytes != 6 || at.Reply == nil || at.Reply.End != "timeout" || at.Reply.Bytes != 0 {
			t.Fatalf("%+v reply %+v", at, at.Reply)
		}
	})

	t.Run("tls", func(t *testing.T) {
		// No ServerHello ever comes: the handshake fails with a timeout.
		at := Dial(context.Background(), srv.AddrPort(), 0, o(Options{TLS: &TLSOptions{Insecure: true}}))
		if at.OK || at.State != StateOpen || at.TLS == nil || at.TLS.Error == "" || at.Failure != probe.FailTimeout {
			t.Fatalf("%+v tls %+v", at, at.TLS)
		}
	})

	t.Run("tls then banner", func(t *testing.T) {
		at := Dial(context.Background(), srv.AddrPort(), 0, o(Options{TLS: &TLSOptions{Insecure: true}, Banner: true}))
		if at.OK || at.Failure != probe.FailTimeout || at.Banner != nil {
			t.Fatalf("%+v banner %+v", at, at.Banner)
		}
	})
}

// A server that drips one byte now and then after a TLS ClientHello: the
// handshake deadline covers the whole handshake, not each read.
func TestTLSDripEndsAtDeadline(t *testing.T) {
	stop := make(chan struct{})
	srv := startServer(t, func(c net.Conn) {
		// A TLS handshake record header announcing a long record, then
		// one byte at a time.
		c.Write([]byte{0x16, 0x03, 0x03, 0x40, 0x00})
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := c.Write([]byte{0}); err != nil {
				return
			}
		}
	})
	defer close(stop)
	at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 300 * time.Millisecond, TLS: &TLSOptions{Insecure: true}})
	if at.OK || at.TLS == nil || at.TLS.Error == "" || at.Failure != probe.FailTimeout {
		t.Fatalf("%+v tls %+v", at, at.TLS)
	}
}
