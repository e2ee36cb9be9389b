package httpget

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nettool/nettool/probe"
)

// Failure codes of get beyond probe's shared ones.
const (
	FailTooManyRedirects   = "too_many_redirects"
	FailBodyTooLarge       = "body_too_large"      // over Limits.MaxBody (--max-size)
	FailDecompressionRatio = "decompression_ratio" // over Limits.MaxRatio (--max-ratio)
	FailHeadTooLarge       = "head_too_large"      // over Limits.MaxHeadBytes or MaxFields, or too many 1xx
	FailIncomplete         = "incomplete"          // the connection closed before the response ended
	FailWriteError         = "write_error"         // the body could not be written to Options.Sink
	FailRequestBody        = "request_body_error"  // the request body could not be read (RequestSpec.BodyFile)
)

// Options configure one get.
type Options struct {
	Request        RequestSpec
	Timeout        time.Duration           // the whole exchange, every hop; 0: 30s
	ConnectTimeout time.Duration           // each connection attempt; 0: 10s
	Family         int                     // 0 any, 4 or 6
	Resolve        map[string][]netip.Addr // "host:port" -> addresses (--resolve)
	Insecure       bool                    // -k: report, but do not enforce, verification
	RootCAs        *x509.CertPool          // --cacert; nil: the system pool
	SNI            string                  // --sni: server name sent and verified
	Follow         bool                    // -L
	MaxRedirects   int                     // 0: 10
	Limits         Limits
	// Sink receives the decoded body of the final response as it arrives
	// (nil: kept only as a preview in the result). Redirect bodies are not
	// written to it.
	Sink io.Writer
	// Fail (--fail): the body of a response with status 400 or more never
	// reaches Sink, as curl --fail writes none.
	Fail bool
	// LookupHost resolves names (nil: the system resolver). Tests inject a
	// fake; IP literals, localhost and --resolve entries never reach it.
	LookupHost func(ctx context.Context, host string) ([]netip.Addr, error)
	// NotHTTPIdle ends a non-HTTP reply after this long without bytes (0: 1s).
	NotHTTPIdle time.Duration
	// Observe, when set, is called as an exchange passes each stage, so a
	// person can watch it happen: StageConnected (resolution, connection and
	// TLS done), StageSent (request written), StageHead (response head
	// parsed; x.Response holds it, the body is still to come), StageDone. It
	// runs on
	// the caller's goroutine.
	Observe func(x *Exchange, stage Stage)
}

// Stage is how far an exchange has come.
type Stage int

// Stages reported to Options.Observe.
const (
	StageConnected Stage = iota + 1
	StageSent
	StageHead
	StageDone // the exchange is over (x.Location is set when it is followed)
)

// Resolution is how the host became addresses.
type Resolution struct {
	Host      string   `json:"host"`
	Source    string   `json:"source"` // literal, resolve_flag, localhost, dns
	Addresses []string `json:"addresses"`
	DNSMS     float64  `json:"dns_ms"`
}

// Attempt is one connection attempt.
type Attempt struct {
	Address string  `json:"address"`
	Error   string  `json:"error,omitempty"`
	MS      float64 `json:"ms"`
}

// Connection is the TCP connection used.
type Connection struct {
	Remote    string    `json:"remote,omitempty"`
	Local     string    `json:"local,omitempty"`
	LocalPort int       `json:"local_port,omitempty"` // picked by the OS
	ConnectMS float64   `json:"connect_ms"`
	Attempts  []Attempt `json:"attempts,omitempty"`
}

// Certificate summarises one certificate of the chain.
type Certificate struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	DNSNames  []string  `json:"dns_names,omitempty"`
	IPs       []string  `json:"ip_addresses,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	DaysLeft  int       `json:"days_left"`
	// For the exporter's probe_ssl_last_chain_info (not in get's JSON).
	SHA256 string `json:"-"` // hex of the DER's SHA-256
	Serial string `json:"-"` // hex of the serial number's bytes
}

// TLSInfo is the handshake's outcome.
type TLSInfo struct {
	Version      string        `json:"version"`
	Cipher       string        `json:"cipher"`
	ALPN         string        `json:"alpn,omitempty"`
	ServerName   string        `json:"server_name,omitempty"`
	HandshakeMS  float64       `json:"handshake_ms"`
	Verified     bool          `json:"verified"`
	VerifyError  string        `json:"verify_error,omitempty"`
	Insecure     bool          `json:"insecure"` // -k: verification not enforced
	Certificates []Certificate `json:"certificates"`
}

// Timings are curl -w's times, cumulative from the start of the hop, in ms.
type Timings struct {
	NameLookup    float64 `json:"namelookup_ms"`
	Connect       float64 `json:"connect_ms"`
	AppConnect    float64 `json:"appconnect_ms"`
	PreTransfer   float64 `json:"pretransfer_ms"`
	PostTransfer  float64 `json:"posttransfer_ms"`
	StartTransfer float64 `json:"starttransfer_ms"`
	Total         float64 `json:"total_ms"`
}

// Exchange is one request and its response (one hop).
type Exchange struct {
	probe.Meta
	URL        string      `json:"url"`
	Resolution *Resolution `json:"resolve,omitempty"`
	Connection *Connection `json:"connect,omitempty"`
	TLS        *TLSInfo    `json:"tls,omitempty"`
	Request    *Request    `json:"request,omitempty"`
	RawRequest []byte      `json:"-"` // the head and at most Limits.KeepRaw body bytes
	// RawRequestCut: the body sent was longer than RawRequest shows.
	RawRequestCut bool      `json:"raw_request_truncated,omitempty"`
	Response      *Response `json:"response,omitempty"`
	Timings       Timings   `json:"timings"`
	Location      string    `json:"location,omitempty"` // the next hop's URL
}

// Violations of this hop's response.
func (x *Exchange) Violations() []Violation {
	if x.Response == nil {
		return nil
	}
	return x.Response.Violations
}

// Result is a whole get: every hop, the last one final.
type Result struct {
	probe.Meta
	URL       string      `json:"url"`
	Status    int         `json:"status,omitempty"`
	Redirects int         `json:"num_redirects"`
	Hops      []*Exchange `json:"hops"`
}

// Final is the last hop.
func (r *Result) Final() *Exchange {
	if len(r.Hops) == 0 {
		return nil
	}
	return r.Hops[len(r.Hops)-1]
}

// Get runs the exchange described by t and o. It returns an error only for
// bad input; a failed exchange is a Result with OK=false.
func Get(ctx context.Context, t Target, o Options) (*Result, error) {
	if r := o.Limits.MaxRatio; math.IsNaN(r) || math.IsInf(r, 0) {
		return nil, probe.Usagef("bad decompression ratio cap %v: want a finite number (negative: no cap)", r)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 10
	}
	if o.NotHTTPIdle <= 0 {
		o.NotHTTPIdle = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	res := &Result{Meta: probe.Meta{Type: "http", Target: t.String(), Start: time.Now()}}
	spec := o.Request
	cur := t
	for hop := 0; ; hop++ {
		final := !o.Follow
		hopSpec, hopOpts := spec, o
		if !sameOrigin(cur, t) {
			// Credentials given for the first URL go to its origin only
			// (scheme, host and port), as curl does since CVE-2022-27776.
			hopSpec.Edits = dropEdits(spec.Edits, "authorization", "cookie", "proxy-authorization")
		}
		if !sameHost(cur, t) {
			// So do a Host field and --sni, which name the first host.
			hopSpec.Edits = dropEdits(hopSpec.Edits, "host")
			hopOpts.SNI = ""
		}
		x := doOne(ctx, cur, hopSpec, hopOpts, final)
		res.Hops = append(res.Hops, x)
		res.URL = x.URL
		if x.Response != nil {
			res.Status = x.Response.Status
		}
		next, ok := redirectTarget(x, cur)
		if !o.Follow || !ok || !x.OK || hop+1 > o.MaxRedirects {
			if o.Observe != nil {
				o.Observe(x, StageDone)
			}
		}
		if !o.Follow || !ok || !x.OK {
			break
		}
		if hop+1 > o.MaxRedirects {
			res.Meta.OK = false
			res.Failure = FailTooManyRedirects
			res.Error = "more than " + probe.Count(o.MaxRedirects, "redirect", "redirects")
			res.ElapsedMS = probe.Millis(time.Since(res.Start))
			return res, nil
		}
		x.Location = next.String()
		if o.Observe != nil {
			o.Observe(x, StageDone)
		}
		res.Redirects++
		st := x.Response.Status
		if st == 303 && !strings.EqualFold(spec.Method, "HEAD") || (st == 301 || st == 302) && strings.EqualFold(effectiveMethod(spec), "POST") {
			spec.Method, spec.Body, spec.HasBody, spec.BodyFile = "GET", nil, false, nil
			spec.Edits = dropEdits(spec.Edits, "content-type", "content-length")
		}
		cur = next
	}
	last := res.Final()
	res.Meta.OK = last.OK
	res.Failure, res.Error = last.Failure, last.Error
	res.ElapsedMS = probe.Millis(time.Since(res.Start))
	return res, nil
}

// sameHost compares host names case-insensitively and IP addresses by value.
func sameHost(a, b Target) bool {
	if x, err := netip.ParseAddr(a.Host); err == nil {
		y, err := netip.ParseAddr(b.Host)
		return err == nil && x == y
	}
	return strings.EqualFold(a.Host, b.Host)
}

// sameOrigin is RFC 6454's origin: scheme, host and port.
func sameOrigin(a, b Target) bool {
	return a.Scheme == b.Scheme && a.Port == b.Port && sameHost(a, b)
}

func effectiveMethod(s RequestSpec) string {
	if s.Method != "" {
		return s.Method
	}
	if s.HasBody {
		return "POST"
	}
	return "GET"
}

func dropEdits(edits []HeaderEdit, lower ...string) []HeaderEdit {
	var out []HeaderEdit
	for _, e := range edits {
		drop := false
		for _, l := range lower {
			if strings.EqualFold(e.Name, l) {
				drop = true
			}
		}
		if !drop {
			out = append(out, e)
		}
	}
	return out
}

// redirectTarget returns where a 3xx response points, resolved against cur.
func redirectTarget(x *Exchange, cur Target) (Target, bool) {
	r := x.Response
	if r == nil || !r.HTTP {
		return Target{}, false
	}
	switch r.Status {
	case 301, 302, 303, 307, 308:
	default:
		return Target{}, false
	}
	loc := r.Get("Location")
	if loc == "" {
		return Target{}, false
	}
	base, err := url.Parse(cur.String())
	if err != nil {
		return Target{}, false
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return Target{}, false
	}
	u := base.ResolveReference(ref)
	if u.Scheme != "http" && u.Scheme != "https" {
		return Target{}, false
	}
	u.User = nil
	nt, err := ParseTarget(u.String())
	if err != nil {
		return Target{}, false
	}
	return nt, true
}

// doOne runs one hop.
func doOne(ctx context.Context, t Target, spec RequestSpec, o Options, final bool) *Exchange {
	start := time.Now()
	x := &Exchange{Meta: probe.Meta{Type: "http_exchange", Target: t.String(), Start: start}, URL: t.String()}
	ms := func() float64 { return probe.Millis(time.Since(start)) }
	fail := func(err error) *Exchange {
		x.Meta.Fail(err)
		var le *LimitError
		var se *SinkError
		var src *SourceError
		var ie *incompleteError
		switch {
		case errors.As(err, &se):
			x.Failure = FailWriteError
		case errors.As(err, &src):
			x.Failure = FailRequestBody
		case errors.As(err, &le):
			x.Failure = le.Code
		case errors.As(err, &ie):
			x.Failure = FailIncomplete
		case errors.Is(err, ErrProtocol):
			x.Failure = probe.FailProtocol
		}
		x.Timings.Total = ms()
		x.ElapsedMS = x.Timings.Total
		return x
	}
	// Resolution.
	res, err := resolve(ctx, t, o)
	x.Resolution = res
	x.Timings.NameLookup = ms()
	if err != nil {
		return fail(err)
	}
	// Connection.
	conn, c, err := dial(ctx, res, t.Port, o)
	x.Connection = c
	x.Timings.Connect = ms()
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var rw net.Conn = conn
	x.Timings.AppConnect = x.Timings.Connect
	if t.Scheme == "https" {
		tc, info, err := handshake(ctx, conn, t, o)
		x.TLS = info
		x.Timings.AppConnect = ms()
		if info != nil {
			info.HandshakeMS = probe.Millis(time.Duration((x.Timings.AppConnect - x.Timings.Connect) * 1e6))
		}
		if err != nil {
			return fail(err)
		}
		rw = tc
	}
	observe := func(st Stage) {
		if o.Observe != nil {
			o.Observe(x, st)
		}
	}
	observe(StageConnected)
	// Request.
	req := spec.Build(t)
	x.Request = &req
	x.Timings.PreTransfer = ms()
	shown, werr := req.send(rw, o.Limits.withDefaults().KeepRaw)
	x.RawRequest = shown
	x.RawRequestCut = int64(len(shown)) < int64(len(req.Head()))+req.BodyBytes
	x.Timings.PostTransfer = ms()
	observe(StageSent)
	var se *SourceError
	if errors.As(werr, &se) {
		return fail(werr)
	}
	// Response.
	tr := &timedReader{c: rw, deadline: deadlineOf(ctx)}
	p := &Parser{Limits: o.Limits, NotHTTP: func() {
		type closeWriter interface{ CloseWrite() error }
		if cw, ok := rw.(closeWriter); ok {
			cw.CloseWrite()
		}
		tr.idle = o.NotHTTPIdle
	}}
	p.SinkFor = func(r *Response) io.Writer {
		x.Response = r
		if r.HTTP {
			observe(StageHead)
		}
		// Redirect bodies that will be followed never reach the sink.
		if !final && r.HTTP && (r.Status == 301 || r.Status == 302 || r.Status == 303 || r.Status == 307 || r.Status == 308) && r.Get("Location") != "" {
			return nil
		}
		if o.Fail && r.HTTP && r.Status >= 400 {
			return nil
		}
		return o.Sink
	}
	resp, perr := p.Parse(tr, req.Method, nil)
	x.Response = resp
	if werr != nil && (!resp.HTTP || resp.Status == 0) {
		// The server stopped reading and said nothing we can show.
		return fail(fmt.Errorf("sending the request: %w", werr))
	}
	if !tr.first.IsZero() {
		x.Timings.StartTransfer = probe.Millis(tr.first.Sub(start))
	}
	x.Timings.Total = ms()
	x.ElapsedMS = x.Timings.Total
	if perr != nil && tr.idleEnded && !resp.HTTP {
		perr = nil // a non-HTTP peer that went quiet: what we have is what there is
	}
	if perr != nil && len(resp.Raw) == 0 && errors.Is(perr, io.EOF) {
		perr = fmt.Errorf("empty reply: the server closed the connection without answering: %w", perr)
	}
	if perr != nil {
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
			perr = fmt.Errorf("%w (while reading the response)", context.Canceled)
		} else if isTimeout(perr) {
			perr = fmt.Errorf("timed out reading the response: %w", context.DeadlineExceeded)
		}
		return fail(perr)
	}
	x.OK = true
	if len(resp.Violations) > 0 {
		x.OK = false
		x.Failure = probe.FailProtocol
		x.Error = fmt.Sprintf("the response breaks HTTP/1.1 (RFC 9112): %s", resp.Violations[0].Message)
		if len(resp.Violations) > 1 {
			x.Error += fmt.Sprintf(" (and %d more)", len(resp.Violations)-1)
		}
	}
	return x
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

func deadlineOf(ctx context.Context) time.Time {
	dl, _ := ctx.Deadline()
	return dl
}

// timedReader notes the first byte and, for non-HTTP peers, ends the read
// after an idle period.
type timedReader struct {
	c         net.Conn
	first     time.Time
	deadline  time.Time
	idle      time.Duration
	idleEnded bool
}

func (r *timedReader) Read(b []byte) (int, error) {
	if r.idle > 0 {
		dl := time.Now().Add(r.idle)
		if !r.deadline.IsZero() && r.deadline.Before(dl) {
			dl = r.deadline
		}
		r.c.SetReadDeadline(dl)
	}
	n, err := r.c.Read(b)
	if n > 0 && r.first.IsZero() {
		r.first = time.Now()
	}
	if err != nil && r.idle > 0 && isTimeout(err) && (r.deadline.IsZero() || time.Now().Before(r.deadline)) {
		r.idleEnded = true
		return n, io.EOF
	}
	return n, err
}

func resolve(ctx context.Context, t Target, o Options) (*Resolution, error) {
	r := &Resolution{Host: t.Host}
	start := time.Now()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(t.Host); err == nil {
		r.Source = "literal"
		addrs = []netip.Addr{a}
	} else if fixed, ok := o.Resolve[strings.ToLower(t.Host)+":"+strconv.Itoa(t.Port)]; ok {
		r.Source = "resolve_flag"
		addrs = fixed
	} else if t.Host == "localhost" || strings.HasSuffix(t.Host, ".localhost") {
		// RFC 6761: localhost names are loopback; no lookup leaves the host.
		r.Source = "localhost"
		addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	} else {
		r.Source = "dns"
		lookup := o.LookupHost
		if lookup == nil {
			lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
		var err error
		addrs, err = lookup(ctx, t.Host)
		r.DNSMS = probe.Millis(time.Since(start))
		if err != nil {
			return r, err
		}
	}
	var kept []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if o.Family == 4 && !a.Is4() || o.Family == 6 && !a.Is6() {
			continue
		}
		kept = append(kept, a)
		r.Addresses = append(r.Addresses, a.String())
	}
	if len(kept) == 0 {
		return r, &net.DNSError{Err: fmt.Sprintf("no IPv%d address", o.Family), Name: t.Host, IsNotFound: true}
	}
	return r, nil
}

func dial(ctx context.Context, r *Resolution, port int, o Options) (net.Conn, *Connection, error) {
	c := &Connection{}
	var lastErr error
	for _, a := range r.Addresses {
		addr := net.JoinHostPort(a, strconv.Itoa(port))
		start := time.Now()
		d := net.Dialer{Timeout: o.ConnectTimeout}
		conn, err := d.DialContext(ctx, "tcp", addr)
		at := Attempt{Address: addr, MS: probe.Millis(time.Since(start))}
		if err != nil {
			if ctx.Err() == nil && isTimeout(err) {
				err = fmt.Errorf("connect to %s: no answer within %v: %w", addr, o.ConnectTimeout, context.DeadlineExceeded)
			}
			at.Error = err.Error()
			c.Attempts = append(c.Attempts, at)
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		c.Attempts = append(c.Attempts, at)
		c.Remote = conn.RemoteAddr().String()
		c.Local = conn.LocalAddr().String()
		if ta, ok := conn.LocalAddr().(*net.TCPAddr); ok {
			c.LocalPort = ta.Port
		}
		c.ConnectMS = at.MS
		return conn, c, nil
	}
	return nil, c, lastErr
}

var tlsVersions = map[uint16]string{tls.VersionTLS10: "TLS 1.0", tls.VersionTLS11: "TLS 1.1", tls.VersionTLS12: "TLS 1.2", tls.VersionTLS13: "TLS 1.3"}

func handshake(ctx context.Context, conn net.Conn, t Target, o Options) (*tls.Conn, *TLSInfo, error) {
	name := t.Host
	if o.SNI != "" {
		name = o.SNI
	}
	info := &TLSInfo{ServerName: name, Insecure: o.Insecure}
	cfg := &tls.Config{
		ServerName:         name,
		NextProtos:         []string{"http/1.1"},
		InsecureSkipVerify: true, // verified below, so -k can still report the verdict
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				info.VerifyError = "no certificate"
				return errors.New("the server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: name, Roots: o.RootCAs, Intermediates: inter})
			if err != nil {
				info.VerifyError = err.Error()
				if !o.Insecure {
					return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
				}
				return nil
			}
			info.Verified = true
			return nil
		},
	}
	tc := tls.Client(conn, cfg)
	err := tc.HandshakeContext(ctx)
	cs := tc.ConnectionState()
	info.Version = tlsVersions[cs.Version]
	if cs.CipherSuite != 0 {
		info.Cipher = tls.CipherSuiteName(cs.CipherSuite)
	}
	info.ALPN = cs.NegotiatedProtocol
	certs := cs.PeerCertificates
	var cve *tls.CertificateVerificationError
	if len(certs) == 0 && errors.As(err, &cve) {
		certs = cve.UnverifiedCertificates
	}
	for _, c := range certs {
		cert := Certificate{Subject: c.Subject.String(), Issuer: c.Issuer.String(), DNSNames: c.DNSNames,
			NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), DaysLeft: int(time.Until(c.NotAfter).Hours() / 24),
			SHA256: fmt.Sprintf("%x", sha256.Sum256(c.Raw)), Serial: fmt.Sprintf("%x", c.SerialNumber.Bytes())}
		for _, ip := range c.IPAddresses {
			cert.IPs = append(cert.IPs, ip.String())
		}
		info.Certificates = append(info.Certificates, cert)
	}
	if err != nil {
		return nil, info, err
	}
	return tc, info, nil
}
