package serve

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// httpStallLog is an access log that hands each line to a channel, so a test
// learns that a request has ended without polling or sleeping.
type httpStallLog struct{ lines chan string }

func (l *httpStallLog) Write(b []byte) (int, error) {
	l.lines <- string(b)
	return len(b), nil
}

func httpStallStart(t *testing.T, timeout time.Duration) (*HTTPServer, *httpStallLog) {
	t.Helper()
	log := &httpStallLog{lines: make(chan string, 16)}
	s := NewHTTPServer(HTTPOptions{Addr: "127.0.0.1:0", Log: log, Timeout: timeout})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, log
}

// httpStallDial connects with a generous deadline of its own: the server
// must end the connection long before it.
func httpStallDial(t *testing.T, s *HTTPServer) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	return c
}

// httpStallReadToEnd reads until the server closes; our own deadline firing
// means the server held the connection.
func httpStallReadToEnd(t *testing.T, c net.Conn, what string) string {
	t.Helper()
	b, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the server never closed the connection (read %q)", what, b)
	}
	return string(b)
}

// Clients that connect and say nothing, drip the head, stall in the body or
// never read the response are all cut off by the server's timeout (short and
// explicit here); what is asserted is that the server ended each one, and how.
func TestServeHTTPStalledClients(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // after the server's own cleanup
	s, log := httpStallStart(t, 300*time.Millisecond)

	t.Run("silent", func(t *testing.T) {
		c := httpStallDial(t, s)
		if got := httpStallReadToEnd(t, c, "silent client"); got != "" {
			t.Fatalf("silent client got an answer: %q", got)
		}
	})

	t.Run("drip in the head", func(t *testing.T) {
		c := httpStallDial(t, s)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Drip: ")
		stop := make(chan struct{})
		dripped := make(chan struct{})
		go func() {
			defer close(dripped)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
			}
		}()
		got := httpStallReadToEnd(t, c, "dripping client")
		close(stop)
		<-dripped
		// Told why, and logged: not a silent close.
		if !strings.HasPrefix(got, "HTTP/1.1 408 Request Timeout\r\n") || !strings.Contains(got, "Connection: close\r\n") {
			t.Fatalf("want a 408 for a head that never ended, got %q", got)
		}
		if l := <-log.lines; !strings.Contains(l, " 408 ") || !strings.Contains(l, "request head incomplete") {
			t.Fatalf("log: %q", l)
		}
	})

	t.Run("silent body on /mirror", func(t *testing.T) {
		c := httpStallDial(t, s)
		io.WriteString(c, "POST /mirror HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten..")
		got := httpStallReadToEnd(t, c, "client silent in its body")
		if !strings.HasPrefix(got, "HTTP/1.1 408 ") {
			t.Fatalf("want 408 for a body that stalled, got %q", got)
		}
		if l := <-log.lines; !strings.Contains(l, "/mirror") || !strings.Contains(l, " 408 ") {
			t.Fatalf("log: %q", l)
		}
	})

	t.Run("silent body elsewhere", func(t *testing.T) {
		// The page is answered; the unread body the server then discards
		// cannot hold the connection open.
		c := httpStallDial(t, s)
		io.WriteString(c, "POST /ip HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
		got := httpStallReadToEnd(t, c, "client silent in its body")
		if !strings.HasPrefix(got, "HTTP/1.1 200 ") || !strings.HasSuffix(got, "127.0.0.1\n") {
			t.Fatalf("want /ip answered, got %q", got)
		}
		<-log.lines
	})

	t.Run("never reads the response", func(t *testing.T) {
		c := httpStallDial(t, s)
		io.WriteString(c, "GET /bytes/68719476736 HTTP/1.1\r\nHost: x\r\n\r\n")
		var l string
		select {
		case l = <-log.lines: // the handler has ended
		case <-time.After(60 * time.Second):
			t.Fatal("the server is still writing to a client that reads nothing")
		}
		if !strings.Contains(l, "/bytes/68719476736") || strings.Contains(l, " 68719476736B ") {
			t.Fatalf("log: %q", l)
		}
		br := bufio.NewReader(c)
		if st, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(st, "HTTP/1.1 200 ") {
			t.Fatalf("status %q %v", st, err)
		}
		if _, err := io.Copy(io.Discard, br); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("connection left open after the write stalled")
		}
	})
}

// With MaxConns 1, a second client waits in the accept queue while a first
// one holds the only slot with a request in progress, and is served as soon
// as that slot frees.
func TestServeHTTPMaxConns(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	log := &httpStallLog{lines: make(chan string, 16)}
	s := NewHTTPServer(HTTPOptions{Addr: "127.0.0.1:0", Log: log, MaxConns: 1})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	first := httpStallDial(t, s)
	io.WriteString(first, "GET /drip?bytes=2&interval=10s HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(first)
	if st, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(st, "HTTP/1.1 200 ") {
		t.Fatalf("first: %q %v", st, err) // the first connection holds the slot, mid-response
	}
	second := httpStallDial(t, s)
	io.WriteString(second, "GET /ip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	_ = second.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := second.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second client served past the limit: %d %v", n, err)
	}
	first.Close()
	_ = second.SetReadDeadline(time.Now().Add(60 * time.Second))
	if got := httpStallReadToEnd(t, second, "second client"); !strings.HasPrefix(got, "HTTP/1.1 200 ") {
		t.Fatalf("second client: %q", got)
	}
}

// With MaxConns 1, an idle keep-alive connection (waiting for a next head
// that does not come) is shed for a new client, which is served.
func TestServeHTTPMaxConnsShedsIdle(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	log := &httpStallLog{lines: make(chan string, 16)}
	s := NewHTTPServer(HTTPOptions{Addr: "127.0.0.1:0", Log: log, MaxConns: 1})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	first := httpStallDial(t, s)
	io.WriteString(first, "GET /ip HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(first)
	if st, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(st, "HTTP/1.1 200 ") {
		t.Fatalf("first: %q %v", st, err)
	}
	<-log.lines
	second := httpStallDial(t, s)
	io.WriteString(second, "GET /ip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if got := httpStallReadToEnd(t, second, "second client"); !strings.HasPrefix(got, "HTTP/1.1 200 ") {
		t.Fatalf("second client: %q", got)
	}
	if l := <-log.lines; !strings.Contains(l, "shed 1 connection that had not sent a request head") {
		t.Fatalf("log: %q", l)
	}
	io.Copy(io.Discard, br)
	if _, err := first.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the idle connection was not shed")
	}
}

// With --tls, a client that connects and never sends its ClientHello, or
// sends part of one, is cut off too (the handshake runs under the head's
// deadline).
func TestServeHTTPTLSSilentClient(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	s := NewHTTPServer(HTTPOptions{Addr: "127.0.0.1:0", TLS: true, Timeout: 300 * time.Millisecond})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	silent := httpStallDial(t, s)
	if got := httpStallReadToEnd(t, silent, "silent TLS client"); got != "" {
		t.Fatalf("silent TLS client got %q", got)
	}
	partial := httpStallDial(t, s)
	partial.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}) // a ClientHello record header, then one byte
	httpStallReadToEnd(t, partial, "client with half a ClientHello")
}

// With MaxConns 1, a client that arrives while the only connection is busy
// with a request is served once that connection goes idle (keep-alive) and
// is shed, without waiting for it to close.
func TestServeHTTPMaxConnsShedsWhenBusyGoesIdle(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	log := &httpStallLog{lines: make(chan string, 16)}
	s := NewHTTPServer(HTTPOptions{Addr: "127.0.0.1:0", Log: log, MaxConns: 1})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	first := httpStallDial(t, s)
	io.WriteString(first, "GET /drip?bytes=2&interval=300ms HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(first)
	if st, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(st, "HTTP/1.1 200 ") {
		t.Fatalf("first: %q %v", st, err)
	}
	second := httpStallDial(t, s) // queued while first is busy
	io.WriteString(second, "GET /ip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if got := httpStallReadToEnd(t, second, "second client"); !strings.HasPrefix(got, "HTTP/1.1 200 ") {
		t.Fatalf("second client: %q", got)
	}
}
