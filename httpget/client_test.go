package httpget

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/probetest"
	"github.com/nettool/nettool/serve"
)

// rawServer accepts connections on loopback and hands each to fn, which
// writes whatever bytes it likes. Every goroutine ends before the test does.
func rawServer(t *testing.T, fn func(c net.Conn)) string {
	t.Helper()
	return probetest.ServeTCP(t, func(c net.Conn, _ <-chan struct{}) { fn(c) })
}

// readRequestHead reads up to the blank line.
func readRequestHead(c net.Conn) ([]byte, error) {
	br := bufio.NewReader(c)
	var head []byte
	for {
		l, err := br.ReadSlice('\n')
		head = append(head, l...)
		if err != nil {
			return head, err
		}
		if len(l) <= 2 {
			return head, nil
		}
	}
}

func canned(resp string) func(net.Conn) {
	return func(c net.Conn) {
		if _, err := readRequestHead(c); err != nil {
			return
		}
		io.WriteString(c, resp)
	}
}

func target(t *testing.T, s string) Target {
	t.Helper()
	tg, err := ParseTarget(s)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestGetCanned(t *testing.T) {
	addr := rawServer(t, canned("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	var sink bytes.Buffer
	res, err := Get(context.Background(), target(t, addr+"/x"), Options{Sink: &sink, Request: RequestSpec{UserAgent: "nettool/test"}})
	if err != nil || !res.OK || res.Status != 200 || sink.String() != "hello" {
		t.Fatalf("err %v res %+v body %q", err, res.Meta, sink.String())
	}
	x := res.Final()
	if x.Connection.LocalPort == 0 || !strings.HasPrefix(x.Connection.Local, "127.0.0.1:") || x.Connection.Remote != addr {
		t.Fatalf("connection %+v", x.Connection)
	}
	if !bytes.HasPrefix(x.RawRequest, []byte("GET /x HTTP/1.1\r\nHost: "+addr+"\r\nUser-Agent: nettool/test\r\n")) {
		t.Fatalf("request %q", x.RawRequest)
	}
	tm := x.Timings
	if !(tm.NameLookup <= tm.Connect && tm.Connect <= tm.PreTransfer && tm.PreTransfer <= tm.StartTransfer && tm.StartTransfer <= tm.Total) || tm.StartTransfer == 0 {
		t.Fatalf("timings out of order: %+v", tm)
	}
}

func TestGetHostileServers(t *testing.T) {
	t.Run("drip past the deadline", func(t *testing.T) {
		stop := make(chan struct{})
		defer close(stop)
		addr := rawServer(t, func(c net.Conn) {
			readRequestHead(c)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
			for {
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
		res, _ := Get(context.Background(), target(t, addr), Options{Timeout: 2 * time.Second})
		if res.OK || res.Failure != probe.FailTimeout || res.Final().Response == nil || res.Final().Response.Status != 200 {
			t.Fatalf("want a timeout with the head kept: %+v", res.Meta)
		}
	})
	t.Run("drip in the head", func(t *testing.T) {
		stop := make(chan struct{})
		defer close(stop)
		addr := rawServer(t, func(c net.Conn) {
			readRequestHead(c)
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			for {
				if _, err := c.Write([]byte("X")); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
		res, _ := Get(context.Background(), target(t, addr), Options{Timeout: 300 * time.Millisecond})
		if res.OK || res.Failure != probe.FailTimeout {
			t.Fatalf("want a timeout: %+v", res.Meta)
		}
	})
	t.Run("silent server", func(t *testing.T) {
		stop := make(chan struct{})
		defer close(stop)
		addr := rawServer(t, func(c net.Conn) { <-stop })
		res, _ := Get(context.Background(), target(t, addr), Options{Timeout: 200 * time.Millisecond})
		if res.OK || res.Failure != probe.FailTimeout {
			t.Fatalf("want a timeout: %+v", res.Meta)
		}
	})
	t.Run("endless headers", func(t *testing.T) {
		addr := rawServer(t, func(c net.Conn) {
			readRequestHead(c)
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			line := []byte("X-Flood: " + strings.Repeat("a", 100) + "\r\n")
			for i := 0; i < 1<<20; i++ {
				if _, err := c.Write(line); err != nil {
					return
				}
			}
		})
		res, _ := Get(context.Background(), target(t, addr), Options{Timeout: 20 * time.Second, Limits: Limits{MaxHeadBytes: 16 << 10}})
		r := res.Final().Response
		if res.OK || res.Failure != FailHeadTooLarge || len(r.Violations) != 0 || r.HeadBytes > 16<<10 {
			t.Fatalf("endless headers: %+v %v", res.Meta, codes(r))
		}
	})
	t.Run("echo server (not HTTP, never closes first)", func(t *testing.T) {
		addr := rawServer(t, func(c net.Conn) { io.Copy(c, c) })
		res, _ := Get(context.Background(), target(t, addr), Options{Timeout: 20 * time.Second})
		r := res.Final().Response
		if res.OK || !hasCode(r, VNotHTTP) || !bytes.HasPrefix(r.Body, []byte("GET / HTTP/1.1\r\n")) || res.Failure != probe.FailProtocol {
			t.Fatalf("echo: %+v %v %q", res.Meta, codes(r), r.Body)
		}
	})
	t.Run("empty reply", func(t *testing.T) {
		addr := rawServer(t, func(c net.Conn) { readRequestHead(c) })
		res, _ := Get(context.Background(), target(t, addr), Options{})
		if res.OK || res.Failure != probe.FailEOF || !strings.Contains(res.Error, "empty reply") {
			t.Fatalf("empty reply: %+v", res.Meta)
		}
	})
	t.Run("refused", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		res, _ := Get(context.Background(), target(t, addr), Options{})
		if res.OK || res.Failure != probe.FailConnRefused || len(res.Final().Connection.Attempts) != 1 {
			t.Fatalf("refused: %+v", res.Meta)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		stop := make(chan struct{})
		defer close(stop)
		addr := rawServer(t, func(c net.Conn) { <-stop })
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		res, _ := Get(ctx, target(t, addr), Options{Timeout: 30 * time.Second})
		if res.OK || res.Failure != probe.FailCanceled {
			t.Fatalf("cancel: %+v", res.Meta)
		}
	})
}

func TestGetResolution(t *testing.T) {
	addr := rawServer(t, func(c net.Conn) {
		head, _ := readRequestHead(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(head))+"\r\n\r\n")
		c.Write(head)
	})
	_, port, _ := net.SplitHostPort(addr)
	// --resolve: the name goes in Host, the address is used, no lookup.
	o := Options{Resolve: map[string][]netip.Addr{"site.test:" + port: {netip.MustParseAddr("127.0.0.1")}},
		LookupHost: func(context.Context, string) ([]netip.Addr, error) { t.Error("lookup must not run"); return nil, nil }}
	res, _ := Get(context.Background(), target(t, "site.test:"+port), o)
	if !res.OK || res.Final().Resolution.Source != "resolve_flag" || !bytes.Contains(res.Final().Response.Body, []byte("Host: site.test:"+port+"\r\n")) {
		t.Fatalf("--resolve: %+v %+v", res.Meta, res.Final().Resolution)
	}
	// An injected resolver.
	o = Options{LookupHost: func(_ context.Context, h string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}}
	res, _ = Get(context.Background(), target(t, "fake.test:"+port), o)
	if !res.OK || res.Final().Resolution.Source != "dns" {
		t.Fatalf("lookup: %+v", res.Meta)
	}
	// localhost never leaves the host and 127.0.0.1 comes first.
	res, _ = Get(context.Background(), target(t, "localhost:"+port), Options{})
	if !res.OK || res.Final().Resolution.Source != "localhost" || res.Final().Resolution.Addresses[0] != "127.0.0.1" {
		t.Fatalf("localhost: %+v %+v", res.Meta, res.Final().Resolution)
	}
	// -6 against an IPv4 literal: nothing to connect to.
	res, _ = Get(context.Background(), target(t, addr), Options{Family: 6})
	if res.OK || res.Failure != probe.FailDNSNXDomain {
		t.Fatalf("-6: %+v", res.Meta)
	}
}

// Interop: our client against Go's net/http server and nettool's own.
func TestGetAgainstServers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := serve.NewHTTPServer(serve.HTTPOptions{Addr: "127.0.0.1:0", DripInterval: time.Millisecond})
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.Write([]byte("part1-"))
			w.(http.Flusher).Flush()
			w.Write([]byte("part2"))
		case "/redirect":
			http.Redirect(w, r, "/chunked", http.StatusMovedPermanently)
		default:
			http.NotFound(w, r)
		}
	}))
	defer gs.Close()
	cases := []struct {
		url, method string
		follow      bool
		status      int
		body        string
		framing     string
		hops        int
	}{
		{s.URL() + "/chunked/2500", "", false, 200, strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\n", 40)[:2500], "chunked", 1},
		{s.URL() + "/gzip", "", false, 200, strings.Repeat("This body was compressed by nettool serve http; nettool get decodes it.\n", 20), "content-length", 1},
		{s.URL() + "/deflate", "", false, 200, strings.Repeat("This body was compressed by nettool serve http; nettool get decodes it.\n", 20), "content-length", 1},
		{s.URL() + "/bytes/10", "HEAD", false, 200, "", "none", 1},
		{s.URL() + "/status/404", "", false, 404, "404 Not Found\n", "content-length", 1},
		{s.URL() + "/redirect/3", "", true, 200, "", "content-length", 4},
		{s.URL() + "/drip?bytes=5", "", false, 200, "*****", "content-length", 1},
		{s.URL() + "/nope", "", false, 404, "404 page not found\n", "content-length", 1},
		{gs.URL + "/chunked", "", false, 200, "part1-part2", "chunked", 1},
		{gs.URL + "/redirect", "", true, 200, "part1-part2", "chunked", 2},
		{gs.URL + "/missing", "", false, 404, "404 page not found\n", "content-length", 1},
	}
	for _, c := range cases {
		var sink bytes.Buffer
		res, err := Get(ctx, target(t, c.url), Options{Follow: c.follow, Sink: &sink, Request: RequestSpec{Method: c.method}})
		if err != nil || !res.OK || res.Status != c.status || len(res.Hops) != c.hops {
			t.Errorf("%s: err %v %+v status %d hops %d", c.url, err, res.Meta, res.Status, len(res.Hops))
			continue
		}
		r := res.Final().Response
		if c.body != "" && sink.String() != c.body || r.Framing != c.framing {
			t.Errorf("%s: body %q framing %s", c.url, sink.String(), r.Framing)
		}
		if c.follow && !strings.HasPrefix(sink.String(), "<!doctype") && c.hops == 4 {
			t.Errorf("%s: the sink must get only the final body, got %q", c.url, sink.String())
		}
	}
	res, _ := Get(ctx, target(t, s.URL()+"/redirect/5"), Options{Follow: true, MaxRedirects: 2})
	if res.OK || res.Failure != FailTooManyRedirects || len(res.Hops) != 3 {
		t.Fatalf("max redirects: %+v hops %d", res.Meta, len(res.Hops))
	}
}

func TestGetTLS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := serve.NewHTTPServer(serve.HTTPOptions{Addr: "127.0.0.1:0", TLS: true})
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	block, _ := pem.Decode(s.CertPEM())
	cert, _ := x509.ParseCertificate(block.Bytes)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	u := target(t, s.URL()+"/ip")
	res, _ := Get(ctx, u, Options{RootCAs: pool})
	x := res.Final()
	if !res.OK || !x.TLS.Verified || x.TLS.Version == "" || x.TLS.ALPN != "http/1.1" || string(x.Response.Body) != "127.0.0.1\n" {
		t.Fatalf("trusted CA: %+v %+v", res.Meta, x.TLS)
	}
	// Unknown CA: refused, but the certificate is still described.
	res, _ = Get(ctx, u, Options{RootCAs: x509.NewCertPool()})
	if res.OK || res.Failure != probe.FailCertificate || len(res.Final().TLS.Certificates) != 1 {
		t.Fatalf("untrusted: %+v %+v", res.Meta, res.Final().TLS)
	}
	// -k goes on and reports the verdict.
	res, _ = Get(ctx, u, Options{RootCAs: x509.NewCertPool(), Insecure: true})
	if !res.OK || res.Final().TLS.Verified || res.Final().TLS.VerifyError == "" {
		t.Fatalf("-k: %+v %+v", res.Meta, res.Final().TLS)
	}
	// A name the certificate does not cover.
	res, _ = Get(ctx, u, Options{RootCAs: pool, SNI: "wrong.example"})
	if res.OK || res.Failure != probe.FailCertificate || !strings.Contains(res.Error, "wrong.example") {
		t.Fatalf("wrong name: %+v", res.Meta)
	}
	// Plain HTTP to a TLS port: the reply is not HTTP.
	res, _ = Get(ctx, target(t, "http://"+s.Addr()+"/"), Options{Timeout: 5 * time.Second})
	if res.OK {
		t.Fatalf("http to https port: %+v", res.Meta)
	}
}

// TestMain fails the package when any test leaves a goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A ratio cap that is not a number is bad input, never "no cap".
func TestGetRejectsNonFiniteRatio(t *testing.T) {
	for _, r := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		res, err := Get(context.Background(), target(t, "127.0.0.1:1"), Options{Limits: Limits{MaxRatio: r}})
		if err == nil || !probe.IsUsage(err) || res != nil {
			t.Errorf("MaxRatio %v: err %v", r, err)
		}
	}
}
