package httpget

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nettool/nettool/serve"
)

// redirServer answers each request path with a 302 to routes[path] (or 200
// when it has none), and records every request head it got.
type redirServer struct {
	mu     sync.Mutex
	heads  map[string]string // "PORT PATH" -> head
	routes map[string]string
}

func (s *redirServer) serve(t *testing.T) string {
	return rawServer(t, func(c net.Conn) {
		head, err := readRequestHead(c)
		if err != nil {
			return
		}
		path := strings.Fields(string(head))[1]
		_, port, _ := net.SplitHostPort(c.LocalAddr().String())
		s.mu.Lock()
		s.heads[port+" "+path] = string(head)
		loc, ok := s.routes[path]
		s.mu.Unlock()
		if ok {
			fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n", loc)
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
}

func (s *redirServer) head(port, path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heads[port+" "+path]
}

// -L: Authorization, Cookie and Proxy-Authorization given with -H go to the
// first URL's origin only (scheme, host, port, as curl since
// CVE-2022-27776), including when a later redirect comes back to it; a
// Host field and --sni name the first host and are not sent elsewhere.
func TestGetRedirectCredentials(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tlsSrv := serve.NewHTTPServer(serve.HTTPOptions{Addr: "127.0.0.1:0", TLS: true})
	if err := tlsSrv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer tlsSrv.Close()
	_, tlsPort, _ := net.SplitHostPort(tlsSrv.Addr())

	s := &redirServer{heads: map[string]string{}, routes: map[string]string{}}
	a := s.serve(t)
	b := s.serve(t)
	_, pa, _ := net.SplitHostPort(a)
	_, pb, _ := net.SplitHostPort(b)
	s.routes["/start"] = "http://" + b + "/other-port"
	s.routes["/other-port"] = "http://" + a + "/back"
	s.routes["/host"] = "http://localhost:" + pa + "/other-host"
	s.routes["/tls"] = "https://localhost:" + tlsPort + "/ip"

	secret := []HeaderEdit{
		{Name: "Authorization", Value: "Bearer s3cret"},
		{Name: "Cookie", Value: "session=s3cret"},
		{Name: "Proxy-Authorization", Value: "Basic s3cret"},
		{Name: "Host", Value: "named.example"},
		{Name: "X-Other", Value: "kept"},
	}
	get := func(path string) *Result {
		t.Helper()
		res, err := Get(ctx, target(t, "http://"+a+path), Options{Follow: true, Timeout: 20 * time.Second, Insecure: true, SNI: "sni.example",
			Request: RequestSpec{Edits: secret}})
		if err != nil || !res.OK {
			t.Fatalf("%s: %v %+v", path, err, res.Meta)
		}
		return res
	}
	hasSecret := func(h string) bool { return strings.Contains(h, "s3cret") }

	get("/start")
	if h := s.head(pa, "/start"); !hasSecret(h) || !strings.Contains(h, "Host: named.example\r\n") {
		t.Fatalf("the first request lacks what -H gave:\n%s", h)
	}
	if h := s.head(pb, "/other-port"); hasSecret(h) || !strings.Contains(h, "X-Other: kept\r\n") {
		t.Fatalf("another port got the credentials (or lost X-Other):\n%s", h)
	}
	if h := s.head(pa, "/back"); !hasSecret(h) {
		t.Fatalf("back at the first origin, the credentials are sent again (as curl):\n%s", h)
	}

	get("/host")
	if h := s.head(pa, "/other-host"); hasSecret(h) || strings.Contains(h, "named.example") || !strings.Contains(h, "Host: localhost:"+pa+"\r\n") {
		t.Fatalf("another host got the credentials or the Host field:\n%s", h)
	}

	res := get("/tls")
	if tl := res.Final().TLS; tl == nil || tl.ServerName != "localhost" {
		t.Fatalf("--sni went to another host: %+v", tl)
	}
	if r := res.Final().Request; r == nil || indexField(r.Headers, "authorization") >= 0 || indexField(r.Headers, "cookie") >= 0 {
		t.Fatalf("another scheme got the credentials: %+v", r)
	}
}
