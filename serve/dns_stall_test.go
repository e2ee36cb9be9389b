package serve

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A TCP client that drips a message one byte at a time, and one that sends
// queries but never reads the answers, are cut off by the idle timeout
// (short and explicit here): the deadline covers a whole message, not each
// read. What is asserted is that the server closed them.
func TestDNSTCPDripAndNonReader(t *testing.T) {
	s := dnsStartTest(t, DNSOptions{TCPIdleTimeout: 200 * time.Millisecond})

	t.Run("drip", func(t *testing.T) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(60 * time.Second))
		c.Write([]byte{0, 200})
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := 0; i < 199; i++ { // never the whole message
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if _, err := c.Write([]byte{0}); err != nil {
					return
				}
			}
		}()
		_, err = c.Read(make([]byte, 1))
		close(stop)
		<-done
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("dripping client not cut off: %v", err)
		}
	})

	t.Run("never reads", func(t *testing.T) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(60 * time.Second))
		q, err := dnsMsg("host.example.test.", dns.TypeA, 0).Pack()
		if err != nil {
			t.Fatal(err)
		}
		one := append([]byte{byte(len(q) >> 8), byte(len(q))}, q...)
		batch := bytes.Repeat(one, 1000)
		var werr error
		for i := 0; i < 1000 && werr == nil; i++ { // at most some 40 MB of queries
			_, werr = c.Write(batch)
		}
		if werr == nil || errors.Is(werr, os.ErrDeadlineExceeded) {
			t.Fatalf("client that never reads not cut off: %v", werr)
		}
		io.Copy(io.Discard, c)
	})
}
