package serve

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nettool/nettool/probe/probetest"
)

type httpSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *httpSyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *httpSyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func httpStartTest(t *testing.T, o HTTPOptions) (*HTTPServer, *httpSyncBuffer, context.CancelFunc) {
	t.Helper()
	log := &httpSyncBuffer{}
	o.Addr, o.Log = "127.0.0.1:0", log
	ctx, cancel := context.WithCancel(context.Background())
	s := NewHTTPServer(o)
	if err := s.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	return s, log, func() { cancel(); s.Wait() }
}

// httpRawExchange writes req on a fresh connection and reads until close.
func httpRawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	return string(b)
}

func httpBody(resp string) string {
	if i := strings.Index(resp, "\r\n\r\n"); i >= 0 {
		return resp[i+4:]
	}
	return ""
}

func TestServeHTTPMirrorExactBytes(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, _, stop := httpStartTest(t, HTTPOptions{})
	defer stop()
	// Header case, order, duplicates and the body come back untouched.
	req := "POST /mirror HTTP/1.1\r\nhOsT: x\r\nX-B: 2\r\nX-A: 1\r\nX-A: 1b\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody"
	if got := httpBody(httpRawExchange(t, s.Addr(), req)); got != req {
		t.Fatalf("mirror:\n got %q\nwant %q", got, req)
	}
	// Keep-alive: each mirror shows only its own request.
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i, r := range []string{"GET /ip HTTP/1.1\r\nHost: a\r\n\r\n", "GET /mirror HTTP/1.1\r\nHost: b\r\n\r\n"} {
		io.WriteString(c, r)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if i == 1 && string(b) != r {
			t.Fatalf("second mirror on a kept-alive connection: %q", b)
		}
	}
}

func TestServeHTTPEndpoints(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, log, stop := httpStartTest(t, HTTPOptions{DripInterval: time.Millisecond})
	defer stop()
	tr := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cases := []struct {
		path, want, header, headerVal string
		status                        int
	}{
		{"/", "Hello from nettool", "Content-Type", "text/html; charset=utf-8", 200},
		{"/ip", "127.0.0.1\n", "Content-Type", "text/plain; charset=utf-8", 200},
		{"/status/418", "418 I'm a teapot\n", "", "", 418},
		{"/status/99", "want a number", "", "", 400},
		{"/bytes/70000", "", "Content-Length", "70000", 200},
		{"/chunked/5", "abcde", "Transfer-Encoding", "", 200},
		{"/gzip", "", "Content-Encoding", "gzip", 200},
		{"/deflate", "", "Content-Encoding", "deflate", 200},
		{"/redirect/2", "redirecting to /redirect/1\n", "Location", "/redirect/1", 302},
		{"/redirect/1", "", "Location", "/", 302},
		{"/drip?bytes=3", "***", "Content-Length", "3", 200},
		{"/drip?interval=1h", "interval", "", "", 400},
		{"/elsewhere", "404 page not found\n", "", "", 404},
	}
	for _, c := range cases {
		resp, err := cl.Get(s.URL() + c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.want) || c.header != "" && resp.Header.Get(c.header) != c.headerVal && c.header != "Transfer-Encoding" {
			t.Errorf("%s: status %d body %.60q %s=%q", c.path, resp.StatusCode, b, c.header, resp.Header.Get(c.header))
		}
		if c.path == "/bytes/70000" && (len(b) != 70000 || bytes.IndexByte(b, 0) < 0 && bytes.Equal(b[:100], b[100:200])) {
			t.Errorf("/bytes: %d bytes", len(b))
		}
		if c.path == "/chunked/5" && len(resp.TransferEncoding) == 0 {
			t.Errorf("/chunked is not chunked")
		}
	}
	// The access log names client, request and status, escaped.
	req, _ := http.NewRequest("GET", s.URL()+"/ip", nil)
	req.Header.Set("User-Agent", "evil\u202e")
	if resp, err := cl.Do(req); err == nil {
		resp.Body.Close()
	}
	lines := log.String()
	if !strings.Contains(lines, `"GET /status/418 HTTP/1.1" 418`) || !strings.Contains(lines, `\u202e`) || strings.Contains(lines, "\u202e") {
		t.Fatalf("access log:\n%s", lines)
	}
}

func TestServeHTTPTLS(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, _, stop := httpStartTest(t, HTTPOptions{TLS: true})
	defer stop()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CertPEM()) || !strings.HasPrefix(s.URL(), "https://") {
		t.Fatal("no certificate")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(s.URL() + "/mirror")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "GET /mirror HTTP/1.1\r\n") {
		t.Fatalf("mirror over TLS must show the decrypted request: %q", b)
	}
}

func TestServeHTTPShutdown(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, _, stop := httpStartTest(t, HTTPOptions{})
	// A slow drip in flight does not hold the shutdown forever.
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /drip?bytes=1000&interval=1s HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown hangs")
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Fatal("still listening after shutdown")
	}
}

// A response in flight at shutdown is finished before the server says it
// has stopped (within the grace period): Ctrl-C does not cut a client off
// mid-body.
func TestServeHTTPShutdownFinishesResponses(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, log, stop := httpStartTest(t, HTTPOptions{})
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /drip?bytes=5&interval=20ms HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	stop() // returns once the server has stopped
	// The drip was served to its end before that: its access-log line,
	// written when the handler returns, is there already.
	if !strings.Contains(log.String(), "GET /drip") {
		t.Fatalf("the server stopped with the response in flight; log %q", log.String())
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(rest), "*"); n != 5 {
		t.Fatalf("body cut at shutdown: %q", rest)
	}
}

// Interop: curl, a real client, against /mirror: the body is what curl -v
// says it sent.
func TestServeHTTPCurlMirror(t *testing.T) {
	defer goleak.VerifyNone(t)
	curl := probetest.LookPeer(t, "curl")
	s, _, stop := httpStartTest(t, HTTPOptions{})
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, curl, "-sS", "-v", "--noproxy", "*", "-H", "X-Test: One Two", "--data", "a=1&b=2", s.URL()+"/mirror")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl: %v %s", err, errb.String())
	}
	var sent []string
	for _, l := range strings.Split(errb.String(), "\n") {
		if strings.HasPrefix(l, "> ") {
			sent = append(sent, strings.TrimSuffix(strings.TrimPrefix(l, "> "), "\r"))
		}
	}
	for len(sent) > 0 && sent[len(sent)-1] == "" {
		sent = sent[:len(sent)-1]
	}
	want := strings.Join(sent, "\r\n") + "\r\n\r\na=1&b=2"
	if out.String() != want {
		t.Fatalf("mirror differs from what curl sent:\n got %q\nwant %q", out.String(), want)
	}
}
