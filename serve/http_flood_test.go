package serve

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// httpFlood opens n connections that each send part of a request head and
// then say nothing more, as slowloris does. It returns once every
// connection is established (in the kernel: accepted or queued) and closes
// them all at cleanup.
func httpFlood(t *testing.T, addr string, n int) {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("flood connection %d: %v", i, err)
		}
		conns = append(conns, c)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: flood\r\nX-Slow: ")
	}
}

// httpLegit makes one ordinary request with a generous deadline of its own.
func httpLegit(t *testing.T, addr string) (string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 20*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, "GET /ip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.Status + " " + string(b), err
}

// A slow-header flood of 2.5 times MaxConns does not lock legitimate clients
// out: connections that have not sent a whole head are shed for new ones.
// The head timeout is long here, so only shedding can let the client in
// within its deadline.
func TestServeHTTPSlowlorisFlood(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	log := &httpSyncBuffer{}
	s := NewHTTPServer(HTTPOptions{Addr: "127.0.0.1:0", Log: log, MaxConns: 40, HeadTimeout: 120 * time.Second, Timeout: 120 * time.Second})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	httpFlood(t, s.Addr(), 100)
	// Several legitimate clients, one after another and at once.
	for i := 0; i < 3; i++ {
		if got, err := httpLegit(t, s.Addr()); err != nil || got != "200 OK 127.0.0.1\n" {
			t.Fatalf("legitimate request %d under the flood: %q %v", i, got, err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, err := httpLegit(t, s.Addr()); err != nil || got != "200 OK 127.0.0.1\n" {
				errs <- fmt.Sprint(got, " ", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent legitimate request: %s", e)
	}
	if !strings.Contains(log.String(), "GET /ip") {
		t.Fatalf("log:\n%s", log.String())
	}
}
