package serve

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nettool/nettool/probe/probetest"
)

// httpBigPost sends a body of size bytes to path, then reads the response and returns the status, the mirror-truncated
// header and the body received, or the error that broke the response.
func httpBigPost(t *testing.T, addr string, useTLS bool, path string, size int) (int, string, []byte, error) {
	t.Helper()
	var c net.Conn
	var err error
	if useTLS {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = net.DialTimeout("tcp", addr, 10*time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	// The whole body first, the response after: a reset from the server
	// would drop the response that waits, unread, in this socket.
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", path, size)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	for left := size; left > 0; {
		n, err := c.Write(chunk[:min(left, len(chunk))])
		if err != nil {
			break // the server stopped reading
		}
		left -= n
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, "", nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
		err = fmt.Errorf("got %d of %d body bytes", len(body), resp.ContentLength)
	}
	return resp.StatusCode, resp.Header.Get("X-Mirror-Truncated"), body, err
}

// A request body larger than the server reads (a page that ignores it, or
// more than /mirror's 1 MiB cap) never costs the client its response: the
// server closes gracefully instead of resetting the connection. This client
// sends its whole body before it reads, so a reset would drop the response
// waiting in its socket.
func TestServeHTTPBigBodyWholeResponse(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	for _, useTLS := range []bool{false, true} {
		s, log, stop := httpStartTest(t, HTTPOptions{TLS: useTLS})
		for _, path := range []string{"/ip", "/status/418"} {
			code, _, body, err := httpBigPost(t, s.Addr(), useTLS, path, 2<<20)
			if err != nil {
				t.Fatalf("tls %v %s: status %d, %d body bytes, %v", useTLS, path, code, len(body), err)
			}
			want := map[string]string{"/ip": "127.0.0.1\n", "/status/418": "418 I'm a teapot\n"}[path]
			if string(body) != want {
				t.Fatalf("tls %v %s: %d %q", useTLS, path, code, body)
			}
		}
		stop()
		if !strings.Contains(log.String(), `"POST /status/418 HTTP/1.1" 418`) {
			t.Fatalf("log:\n%s", log.String())
		}
	}
}

// curl, the client the reset was seen with, posting 16 MiB to /mirror: it
// reads the response while it sends, and got "Connection reset by peer"
// after part of the mirror.
func TestServeHTTPBigBodyCurl(t *testing.T) {
	defer goleak.VerifyNone(t)
	curl := probetest.LookPeer(t, "curl")
	s, _, stop := httpStartTest(t, HTTPOptions{})
	defer stop()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, bytes.Repeat([]byte("x"), 16<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/mirror"} {
		out := filepath.Join(dir, "out")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, curl, "-sS", "--noproxy", "*", "--data-binary", "@"+in, "-o", out, "-w", "%{http_code} %{size_download}", s.URL()+path)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("curl %s: %v: %s", path, err, stderr.String())
		}
		want := "200 1048576"
		if stdout.String() != want {
			t.Fatalf("curl %s: got %q, want %q (%s)", path, stdout.String(), want, stderr.String())
		}
	}
}
