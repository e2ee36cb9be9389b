package serve

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// httpFuzzWriter is a ResponseWriter that counts and discards, and fails
// like a client that hung up once a response passes 1 MiB, so /bytes/N with
// a huge N ends quickly.
type httpFuzzWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *httpFuzzWriter) Header() http.Header { return w.h }
func (w *httpFuzzWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *httpFuzzWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	if w.n > 1<<20 {
		return 0, errors.New("client gone")
	}
	w.n += len(b)
	return len(b), nil
}
func (w *httpFuzzWriter) Flush() {}

// FuzzServeHTTPRequest parses arbitrary bytes as a request, as net/http's
// server does, and hands what parses to serve http's handler: the path and
// query parsing of every endpoint (/status/N, /bytes/N, /chunked/N,
// /redirect/N, /drip?bytes=&interval=) must answer a valid status without
// panicking or writing without bound. The request's context is already
// cancelled, so /drip stops after its first byte.
func FuzzServeHTTPRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /status/418 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /status/99999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /bytes/68719476736 HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /bytes/-1 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /chunked/104857600 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /redirect/0 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /drip?bytes=100000&interval=10s HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /drip?interval=-1ns&bytes=%00 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /mirror HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
		"GET /gzip HTTP/1.0\r\n\r\n",
		"GET /%1b[31m HTTP/1.1\r\nHost: x\r\nUser-Agent: \x1b[2J\r\n\r\n",
		"GET //ip?x HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		f.Add(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := NewHTTPServer(HTTPOptions{Log: new(strings.Builder)})
	h := s.handler()
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		r.RemoteAddr = "127.0.0.1:40000"
		w := &httpFuzzWriter{h: http.Header{}}
		h.ServeHTTP(w, r.WithContext(ctx))
		if w.status != 0 && (w.status < 100 || w.status > 599) {
			t.Fatalf("%q: status %d", raw, w.status)
		}
		if w.n > 1<<20+256<<10 {
			t.Fatalf("%q: wrote %d bytes to a client that hung up", raw, w.n)
		}
	})
}
