package serve

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nettool/nettool/probe/output"
)

// HTTPDefaultAddr is where `nettool serve http` listens by default: loopback
// only, the tutorial's port.
const HTTPDefaultAddr = "127.0.0.1:8000"

// HTTPOptions configure an HTTPServer.
type HTTPOptions struct {
	Addr string    // host:port; "" means HTTPDefaultAddr, port 0 picks one
	TLS  bool      // serve HTTPS with a certificate generated at start
	Log  io.Writer // access log, one line per request (nil: none)
	// DripInterval is /drip's default pause between bytes (0: 100ms).
	DripInterval time.Duration
	// Timeout cuts off a client that stalls: a request (head and body) must
	// arrive within it, and every write of a response must make progress
	// within it, so a client that says nothing, drips, or never reads its
	// response cannot hold a connection (0: 30s; the head alone: at most 10s).
	Timeout time.Duration
	// HeadTimeout is how long a request head may take to arrive (0: 10s or
	// Timeout, whichever is shorter). Near MaxConns it is cut to 2s.
	HeadTimeout time.Duration
	// MaxConns is how many connections are held at once (0: 1024). At the
	// cap, the connection that has waited longest for a request head (an
	// idle keep-alive one, a slowloris) is shed for the new one; when every
	// connection is busy with a request, new ones wait in the kernel's
	// accept queue until one ends.
	MaxConns int
}

// HTTPServer is the tutorial's web server plus the endpoints nettool get is
// tested against. /mirror answers with the request bytes exactly as they
// arrived, read from the connection itself.
type HTTPServer struct {
	opts    HTTPOptions
	ln      net.Listener
	srv     *http.Server
	certPEM []byte
	pool    *httpPool
	done    chan struct{}
	err     error
	logMu   sync.Mutex
}

// logf writes one line to the access log. The line is formatted before the
// lock is taken: the lock only keeps lines whole.
func (s *HTTPServer) logf(format string, args ...any) {
	if s.opts.Log == nil {
		return
	}
	line := fmt.Sprintf(format+"\n", args...)
	s.logMu.Lock()
	io.WriteString(s.opts.Log, line)
	s.logMu.Unlock()
}

// NewHTTPServer returns a server that is not started yet.
func NewHTTPServer(o HTTPOptions) *HTTPServer {
	if o.Addr == "" {
		o.Addr = HTTPDefaultAddr
	}
	if o.DripInterval <= 0 {
		o.DripInterval = 100 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 1024
	}
	if o.Log == io.Discard {
		o.Log = nil // -q: no line is formatted at all
	}
	if o.HeadTimeout <= 0 {
		o.HeadTimeout = min(10*time.Second, o.Timeout)
	}
	return &HTTPServer{opts: o, done: make(chan struct{})}
}

// Start binds the address and serves in the background until ctx is done
// or Close is called. Wait returns when the server has stopped.
func (s *HTTPServer) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.pool = newHTTPPool(s.opts.MaxConns, s.logf)
	hl := &httpListener{Listener: ln, pool: s.pool, srv: s, stall: s.opts.Timeout}
	if s.opts.TLS {
		cert, pemBytes, err := httpSelfSigned(ln.Addr())
		if err != nil {
			ln.Close()
			return err
		}
		s.certPEM = pemBytes
		hl.tls = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	}
	s.srv = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: s.opts.HeadTimeout,
		ReadTimeout:       s.opts.Timeout, // the body too: /mirror reads it
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if rc, ok := c.(*httpRecConn); ok {
				return context.WithValue(ctx, httpConnKey{}, rc)
			}
			return ctx
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			rc, ok := c.(*httpRecConn)
			if !ok {
				return
			}
			switch st {
			case http.StateActive: // a whole head has been read
				rc.raw.pool.serving(rc.raw)
			case http.StateIdle: // the response is done: wait for the next head
				rc.newHead()
				rc.raw.pool.waitingAgain(rc.raw)
			}
		},
		ErrorLog: nil,
	}
	s.srv.SetKeepAlivesEnabled(true)
	served := make(chan struct{})
	go func() {
		defer close(served)
		err := s.srv.Serve(hl)
		if !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	// Stopped only once the responses in flight are done: Serve returns
	// as soon as Shutdown starts, Shutdown when they have finished (or
	// after its grace period).
	go func() {
		defer close(s.done)
		select {
		case <-ctx.Done():
			s.shutdown()
		case <-served:
		}
		<-served
	}()
	return nil
}

func (s *HTTPServer) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
}

// Close stops the server at once and waits for it.
func (s *HTTPServer) Close() error {
	if s.srv == nil {
		return nil
	}
	s.srv.Close()
	<-s.done
	return s.err
}

// Wait blocks until the server has stopped.
func (s *HTTPServer) Wait() error {
	<-s.done
	return s.err
}

// Addr is the bound address (host:port).
func (s *HTTPServer) Addr() string { return s.ln.Addr().String() }

// URL is the server's base URL.
func (s *HTTPServer) URL() string {
	if s.opts.TLS {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// CertPEM is the generated certificate with --tls (nil otherwise), for
// clients that want to trust it.
func (s *HTTPServer) CertPEM() []byte { return s.certPEM }

type httpConnKey struct{}

const httpMirrorCap = 1 << 20

// httpRecConn is what net/http serves: it records the raw request bytes so
// they can be mirrored, gives every write a deadline, watches for the end
// of each request head (to shorten the head deadline near the cap, and to
// answer 408 when a head is cut off by it) and, under TLS, sees plaintext.
type httpRecConn struct {
	net.Conn           // *httpConn, or a *tls.Conn on one
	raw      *httpConn // the TCP connection and its slot
	srv      *HTTPServer
	stall    time.Duration
	mu       sync.Mutex
	buf      []byte
	cut      bool
	headDone bool      // the current request's head has fully arrived
	headLen  int       // bytes of the current head received so far
	headNL   int       // end-of-head scanner: 1 after LF, 2 after LF CR
	headAt   time.Time // when the current head began to be awaited
	sent408  bool
}

// newHead starts waiting for the next request head.
func (c *httpRecConn) newHead() {
	c.mu.Lock()
	c.headDone, c.headLen, c.headNL, c.headAt = false, 0, 0, time.Now()
	c.mu.Unlock()
}

// scanHead notes bytes of the head; it stops at the empty line that ends
// it (CRLF CRLF, or bare LFs).
func (c *httpRecConn) scanHead(b []byte) {
	for i, x := range b {
		switch {
		case x == '\n' && c.headNL > 0:
			c.headDone = true
			c.headLen += i + 1
			return
		case x == '\n':
			c.headNL = 1
		case x == '\r' && c.headNL == 1:
			c.headNL = 2
		default:
			c.headNL = 0
		}
	}
	c.headLen += len(b)
}

// Write gives each write its own deadline: a response may take as long as
// it needs (a 64 GiB /bytes, a slow /drip) as long as the client keeps
// reading. net/http's WriteTimeout would cut the whole response instead, and
// without any a client that never reads holds the handler forever.
func (c *httpRecConn) Write(b []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.stall))
	return c.Conn.Write(b)
}

// SetReadDeadline shortens the head deadline when the server is near its
// connection cap.
func (c *httpRecConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	head := !c.headDone
	c.mu.Unlock()
	if head && c.raw.pool.pressure() {
		if lim := time.Now().Add(httpPressureHead); t.IsZero() || t.After(lim) {
			t = lim
		}
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *httpRecConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	if n > 0 {
		room := httpMirrorCap - len(c.buf)
		if room < n {
			c.cut = true
		}
		c.buf = append(c.buf, b[:min(n, max(room, 0))]...)
		if !c.headDone {
			c.scanHead(b[:n])
		}
	}
	timedOut := err != nil && !c.headDone && c.headLen > 0 && !c.sent408 && headTimedOut(err)
	if timedOut {
		c.sent408 = true
	}
	headLen, waited := c.headLen, time.Since(c.headAt)
	c.mu.Unlock()
	if timedOut {
		// net/http closes a connection whose head timed out without a
		// word; say why, as a server that drops a request should.
		c.raw.linger.Store(true)
		const body = "request head not received in time\n"
		_, _ = c.Write([]byte("HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body))
		c.srv.logf("%s \"-\" 408 0B %.1fms \"-\" (request head incomplete: %d byte%s received)", c.RemoteAddr(),
			float64(waited.Microseconds())/1000, headLen, plural(headLen))
	}
	return n, err
}

// take returns what was read since the last take.
func (c *httpRecConn) take() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, cut := c.buf, c.cut
	c.buf, c.cut = nil, false
	return b, cut
}

type httpStatusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *httpStatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *httpStatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *httpStatusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *HTTPServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", s.httpIndex)
	mux.HandleFunc("/mirror", s.httpMirror)
	mux.HandleFunc("/ip", httpIP)
	mux.HandleFunc("/status/{n}", httpStatus)
	mux.HandleFunc("/bytes/{n}", httpBytes)
	mux.HandleFunc("/chunked/{n}", httpChunked)
	mux.HandleFunc("/gzip", httpEncoded("gzip", func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }))
	mux.HandleFunc("/deflate", httpEncoded("deflate", func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) }))
	mux.HandleFunc("/redirect/{n}", httpRedirect)
	mux.HandleFunc("/drip", s.httpDrip)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "404 page not found\n")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &httpStatusWriter{ResponseWriter: w}
		body := &httpBodyWatch{ReadCloser: r.Body, length: r.ContentLength}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		} else {
			body.eof = true
		}
		mux.ServeHTTP(sw, r)
		if rc, ok := r.Context().Value(httpConnKey{}).(*httpRecConn); ok {
			if r.URL.Path != "/mirror" {
				rc.take() // the next request's mirror starts here
			}
			// net/http discards at most 256 KiB of a body left unread
			// and then closes: linger so the client gets the response.
			rc.raw.linger.Store(!body.done())
		}
		if s.opts.Log != nil {
			s.logf("%s %s %d %dB %.1fms %s", r.RemoteAddr,
				output.Escape(fmt.Sprintf("%q", r.Method+" "+r.RequestURI+" "+r.Proto)), sw.status, sw.n,
				float64(time.Since(start).Microseconds())/1000, output.Escape(strconv.Quote(r.UserAgent())))
		}
	})
}

// httpBodyWatch tells whether the handler read the request body to its end.
type httpBodyWatch struct {
	io.ReadCloser
	length int64 // -1: unknown (chunked)
	n      int64
	eof    bool
}

func (b *httpBodyWatch) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *httpBodyWatch) done() bool { return b.eof || (b.length >= 0 && b.n >= b.length) }

func (s *HTTPServer) httpIndex(w http.ResponseWriter, r *http.Request) {
	host, port, _ := net.SplitHostPort(r.RemoteAddr)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html>
<html><head><meta charset="utf-8"><title>nettool serve http</title></head>
<body>
<h1>Hello from nettool serve http</h1>
<p>You connected from %s, port %s (the port your operating system picked for this connection).</p>
<p>Try <a href="/mirror">/mirror</a> (your request, byte for byte), <a href="/ip">/ip</a>, /status/404, /bytes/64,
/chunked/100, <a href="/gzip">/gzip</a>, /redirect/3, /drip.</p>
</body></html>
`, html.EscapeString(host), html.EscapeString(port))
}

func (s *HTTPServer) httpMirror(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, httpMirrorCap)); err != nil {
		// A body that stalls past the timeout, or breaks off: the
		// connection is closed after this answer.
		code := http.StatusBadRequest
		if errors.Is(err, os.ErrDeadlineExceeded) {
			code = http.StatusRequestTimeout
		}
		w.Header().Set("Connection", "close")
		http.Error(w, "request body: "+http.StatusText(code), code)
		return
	}
	rc, ok := r.Context().Value(httpConnKey{}).(*httpRecConn)
	if !ok {
		http.Error(w, "mirror unavailable", http.StatusInternalServerError)
		return
	}
	raw, cut := rc.take()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if cut {
		w.Header().Set("X-Mirror-Truncated", strconv.Itoa(httpMirrorCap))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	w.Write(raw)
}

func httpIP(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, host+"\n")
}

func httpN(w http.ResponseWriter, r *http.Request, lo, hi int64) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < lo || n > hi {
		http.Error(w, fmt.Sprintf("want a number from %d to %d", lo, hi), http.StatusBadRequest)
		return 0, false
	}
	return n, true
}

func httpStatus(w http.ResponseWriter, r *http.Request) {
	n, ok := httpN(w, r, 200, 599)
	if !ok {
		return
	}
	code := int(n)
	if code == 204 || code == 304 {
		w.WriteHeader(code)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, "%d %s\n", code, http.StatusText(code))
}

// httpPattern is a fixed pseudo-random block /bytes repeats, made on first
// use so that nettool's start-up does not pay for it.
var httpPattern = sync.OnceValue(func() []byte {
	b := make([]byte, 256<<10)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
})

func httpBytes(w http.ResponseWriter, r *http.Request) {
	n, ok := httpN(w, r, 0, 64<<30)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	if r.Method == http.MethodHead {
		return
	}
	pattern := httpPattern()
	for n > 0 {
		k := min(n, int64(len(pattern)))
		if _, err := w.Write(pattern[:k]); err != nil {
			return
		}
		n -= k
	}
}

const httpLine = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"

// httpTextBlock holds enough repetitions of httpLine that any 1000-byte
// piece of the endless text starts within its first line.
var httpTextBlock = []byte(strings.Repeat(httpLine, 1000/len(httpLine)+2))

func httpChunked(w http.ResponseWriter, r *http.Request) {
	n, ok := httpN(w, r, 0, 100<<20)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	f, _ := w.(http.Flusher)
	// The text is cut from a fixed block piece by piece: the body is never
	// held in memory, so a client asking for 100 MiB costs 1 KiB.
	for off := int64(0); off < n; {
		k := min(n-off, 1000)
		start := off % int64(len(httpLine))
		if _, err := w.Write(httpTextBlock[start : start+k]); err != nil {
			return
		}
		off += k
		if f != nil {
			f.Flush() // each piece becomes its own chunk
		}
	}
	if f != nil && n == 0 {
		f.Flush()
	}
}

var httpCompressible = bytes.Repeat([]byte("This body was compressed by nettool serve http; nettool get decodes it.\n"), 20)

// httpEncoded serves httpCompressible compressed by newWriter as encoding;
// the body never changes, so it is compressed once, at start.
func httpEncoded(encoding string, newWriter func(io.Writer) io.WriteCloser) http.HandlerFunc {
	var b bytes.Buffer
	z := newWriter(&b)
	z.Write(httpCompressible)
	z.Close()
	body := b.Bytes()
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Encoding", encoding)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
}

func httpRedirect(w http.ResponseWriter, r *http.Request) {
	n, ok := httpN(w, r, 1, 100)
	if !ok {
		return
	}
	to := "/"
	if n > 1 {
		to = "/redirect/" + strconv.FormatInt(n-1, 10)
	}
	w.Header().Set("Location", to)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusFound)
	fmt.Fprintf(w, "redirecting to %s\n", to)
}

// httpDrip sends ?bytes=N (default 10) one at a time, ?interval=D apart.
func (s *HTTPServer) httpDrip(w http.ResponseWriter, r *http.Request) {
	n := int64(10)
	if v := r.URL.Query().Get("bytes"); v != "" {
		k, err := strconv.ParseInt(v, 10, 64)
		if err != nil || k < 0 || k > 100000 {
			http.Error(w, "bytes: want 0 to 100000", http.StatusBadRequest)
			return
		}
		n = k
	}
	iv := s.opts.DripInterval
	if v := r.URL.Query().Get("interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 10*time.Second {
			http.Error(w, "interval: want a duration up to 10s", http.StatusBadRequest)
			return
		}
		iv = d
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	t := time.NewTicker(max(iv, time.Millisecond))
	defer t.Stop()
	for i := int64(0); i < n; i++ {
		if _, err := w.Write([]byte{'*'}); err != nil {
			return
		}
		if f != nil {
			f.Flush()
		}
		if i+1 == n {
			break
		}
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
	}
}

// httpSelfSigned makes a short-lived certificate for loopback names and the
// bound address.
func httpSelfSigned(addr net.Addr) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "nettool serve http", Organization: []string{"nettool"}},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() && !ta.IP.IsLoopback() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ta.IP)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pemBytes, nil
}

// HTTPEndpoints lists what the server answers, for --help and docs.
var HTTPEndpoints = strings.TrimSpace(`
/             a small page that a browser shows
/mirror       the raw request bytes exactly as received
/ip           your address, plain text (ipecho-style)
/status/N     status N (200-599)
/bytes/N      N bytes of binary data, Content-Length framed
/chunked/N    N bytes of text in 1000-byte chunks
/gzip         a gzip-compressed body (Content-Encoding: gzip)
/deflate      a zlib-compressed body (Content-Encoding: deflate)
/redirect/N   N redirects (302) ending at /
/drip         ?bytes=N&interval=D: one byte every D (default 10 bytes, 100ms)
anything else 404`)
