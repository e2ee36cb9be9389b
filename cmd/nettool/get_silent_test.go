package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// getFullQueue is a listener whose accept queue is full: a new connection's
// SYN is dropped, so connecting hangs like a silent firewall.
func getFullQueue(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	target := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for i := 0; i < 16; i++ {
		c, err := net.DialTimeout("tcp", target, 300*time.Millisecond)
		if err != nil {
			return target
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("accept queue never filled")
	return ""
}

// Every phase of get ends under a silent peer, with exit 1 and one line on
// stderr that says timeout; the deadlines are short and explicit, and what
// is asserted is the outcome, not the time taken.
func TestGetSilentPeers(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after the servers stop
	stop := make(chan struct{})
	defer close(stop)
	silent := getRawServer(t, func(c net.Conn) { <-stop })

	t.Run("connect", func(t *testing.T) {
		out, errs, code := runCLI(t, "get", getFullQueue(t), "--connect-timeout", "300ms")
		if code != 1 || !strings.HasPrefix(errs, "nettool: get: timeout: ") || strings.Count(errs, "\n") != 1 || strings.Contains(out, "> GET") {
			t.Fatalf("code %d err %q out %s", code, errs, out)
		}
	})
	t.Run("connect, --json", func(t *testing.T) {
		out, _, code := runCLI(t, "get", getFullQueue(t), "--connect-timeout", "300ms", "--json")
		if code != 1 || !strings.Contains(out, `"failure": "timeout"`) {
			t.Fatalf("code %d out %s", code, out)
		}
	})
	t.Run("tls handshake", func(t *testing.T) {
		out, errs, code := runCLI(t, "get", "https://"+silent+"/", "-m", "300ms", "-k")
		if code != 1 || !strings.HasPrefix(errs, "nettool: get: timeout: ") || strings.Contains(out, "TLS handshake:") || strings.Contains(out, "> GET") {
			t.Fatalf("code %d err %q out %s", code, errs, out)
		}
	})
	t.Run("head", func(t *testing.T) {
		out, errs, code := runCLI(t, "get", silent, "-m", "300ms")
		if code != 1 || !strings.HasPrefix(errs, "nettool: get: timeout: ") || !strings.Contains(out, "> GET / HTTP/1.1") || strings.Contains(out, "< HTTP") {
			t.Fatalf("code %d err %q out %s", code, errs, out)
		}
	})
	t.Run("body", func(t *testing.T) {
		half := getRawServer(t, func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nten bytes.")
			io.Copy(io.Discard, c) // silent until the test closes it
		})
		out, errs, code := runCLI(t, "get", half, "-m", "300ms")
		if code != 1 || !strings.HasPrefix(errs, "nettool: get: timeout: ") || !strings.Contains(out, "< HTTP/1.1 200 OK") {
			t.Fatalf("code %d err %q out %s", code, errs, out)
		}
	})
}
