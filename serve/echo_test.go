package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

type echoLockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *echoLockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *echoLockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func echoStart(t *testing.T, o EchoOptions) (*EchoServer, func()) {
	t.Helper()
	srv, err := EchoListen("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	return srv, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Serve did not return after cancel")
		}
	}
}

func TestEchoManyClients(t *testing.T) {
	defer goleak.VerifyNone(t)
	logb := &echoLockedBuf{}
	srv, stop := echoStart(t, EchoOptions{Log: logb})
	const clients = 20
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", srv.Addr().String(), 10*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			msg := fmt.Sprintf("client %02d: This is the message.  It will be repeated.", i)
			if _, err := c.Write([]byte(msg)); err != nil {
				errs <- err
				return
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
				errs <- fmt.Errorf("client %d got %q, %v", i, got, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	stop()
	log := logb.String()
	if n := strings.Count(log, "connection from 127.0.0.1:"); n != clients {
		t.Errorf("%d connection lines, want %d:\n%s", n, clients, log)
	}
	// Each chunk is at most 16 bytes, logged with the client's address.
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if i := strings.Index(line, " received "); i >= 0 {
			var n int
			fmt.Sscanf(line[i:], " received %d bytes", &n)
			if n < 1 || n > 16 || !strings.Contains(line[:i], "127.0.0.1:") {
				t.Errorf("bad chunk line %q", line)
			}
		}
	}
	if !strings.Contains(log, `received 16 bytes "client 00: This "`) {
		t.Errorf("first chunk of client 00 not logged:\n%s", log)
	}
}

func TestEchoEscapesAndChunk(t *testing.T) {
	defer goleak.VerifyNone(t)
	logb := &echoLockedBuf{}
	srv, stop := echoStart(t, EchoOptions{Log: logb, Chunk: 4})
	c, err := net.DialTimeout("tcp", srv.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	msg := "\x1b[2J\x00\xff"
	c.Write([]byte(msg))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo %q, %v", got, err)
	}
	c.(*net.TCPConn).CloseWrite()
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("server should close after EOF, got %v", err)
	}
	c.Close()
	stop()
	log := logb.String()
	if strings.ContainsAny(log, "\x1b\x00") || !strings.Contains(log, `"\x1b[2J"`) || !strings.Contains(log, `"\x00\xff"`) {
		t.Errorf("log not escaped or not in 4-byte chunks:\n%q", log)
	}
	if !strings.Contains(log, "no more data from 127.0.0.1:") {
		t.Errorf("no end-of-client line:\n%s", log)
	}
}

// Ctrl-C with clients still connected: Serve closes them and returns.
func TestEchoShutdownWithOpenClients(t *testing.T) {
	defer goleak.VerifyNone(t)
	logb := &echoLockedBuf{}
	srv, stop := echoStart(t, EchoOptions{Log: logb})
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.DialTimeout("tcp", srv.Addr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		c.Write([]byte("hi"))
		io.ReadFull(c, make([]byte, 2)) // the server has this client now
		conns = append(conns, c)
	}
	stop()
	for _, c := range conns {
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("client still connected after shutdown")
		}
	}
	if _, err := net.DialTimeout("tcp", srv.Addr().String(), 10*time.Second); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestEchoIdleTimeout(t *testing.T) {
	defer goleak.VerifyNone(t)
	logb := &echoLockedBuf{}
	srv, stop := echoStart(t, EchoOptions{Log: logb, IdleTimeout: 100 * time.Millisecond})
	defer stop()
	c, err := net.DialTimeout("tcp", srv.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle client: %v, want EOF", err)
	}
}

func TestEchoListenError(t *testing.T) {
	if _, err := EchoListen("256.0.0.1:0", EchoOptions{}); err == nil {
		t.Fatal("bad address accepted")
	}
}

// A client that sends and sends but never reads what comes back: once the
// echoes fill the pipe the server's write stalls, and the idle timeout
// (short and explicit here) cuts the client off instead of holding the
// connection forever.
func TestEchoClientThatNeverReads(t *testing.T) {
	defer goleak.VerifyNone(t)
	logb := &echoLockedBuf{}
	srv, stopServer := echoStart(t, EchoOptions{Log: logb, Chunk: 4096, IdleTimeout: 100 * time.Millisecond})
	stop := sync.OnceFunc(stopServer)
	defer stop()
	c, err := net.DialTimeout("tcp", srv.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	buf := bytes.Repeat([]byte("x"), 64<<10)
	var werr error
	for i := 0; i < 1<<14 && werr == nil; i++ { // at most 1 GiB
		_, werr = c.Write(buf)
	}
	if werr == nil || errors.Is(werr, os.ErrDeadlineExceeded) {
		t.Fatalf("the server never cut off a client that does not read: %v", werr)
	}
	// The log is written behind the connections: read it once the server
	// has stopped. Which deadline cut the client depends on scheduling (a
	// starved client can leave the server's read idle before its write
	// stalls); either is a cut-off.
	stop()
	if l := logb.String(); !strings.Contains(l, "write failed") && !strings.Contains(l, "idle for 100ms: closing") {
		t.Fatalf("log: %s", l)
	}
}
