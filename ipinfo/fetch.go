package ipinfo

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
)

// Answer is what one provider said in one family.
type Answer struct {
	Type       string  `json:"type"` // "provider_answer"
	Provider   string  `json:"provider"`
	Method     Method  `json:"method"`
	Family     string  `json:"family"`
	OK         bool    `json:"ok"` // a valid answer (public address of the asked family)
	Address    string  `json:"address,omitempty"`
	Agrees     bool    `json:"agrees"` // OK and equal to the consensus address
	Failure    string  `json:"failure,omitempty"`
	Error      string  `json:"error,omitempty"`
	ElapsedMS  float64 `json:"elapsed_ms"`
	HTTPStatus int     `json:"http_status,omitempty"`
	Server     string  `json:"server,omitempty"` // the address nettool connected to
	Local      string  `json:"local,omitempty"`  // nettool's end of that connection
	Proxy      string  `json:"proxy,omitempty"`  // the HTTP proxy used, if any (the answer is then the proxy's address)
	TLS        string  `json:"tls,omitempty"`    // TLS version for https
	Body       string  `json:"body,omitempty"`   // start of a rejected body, escaped

	addr netip.Addr
}

// Addr returns the parsed address of a valid answer.
func (a Answer) Addr() netip.Addr { return a.addr }

// asker holds what the provider calls of one Discover share.
type asker struct {
	opts      Options
	transport map[Family]*http.Transport
}

func newAsker(o Options) *asker {
	a := &asker{opts: o, transport: map[Family]*http.Transport{}}
	for _, f := range []Family{IPv4, IPv6} {
		a.transport[f] = a.newTransport(f)
	}
	return a
}

func (a *asker) close() {
	for _, t := range a.transport {
		t.CloseIdleConnections()
	}
}

func tcpNetwork(f Family) string {
	if f == IPv6 {
		return "tcp6"
	}
	return "tcp4"
}

func udpNetwork(f Family) string {
	if f == IPv6 {
		return "udp6"
	}
	return "udp4"
}

func (a *asker) newTransport(f Family) *http.Transport {
	d := &net.Dialer{Resolver: a.opts.Resolver}
	t := &http.Transport{
		// The dial is forced to the asked family whatever the name
		// resolves to, so the provider sees our address of that family.
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return d.DialContext(ctx, tcpNetwork(f), addr)
		},
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 8 << 10,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: a.opts.RootCAs},
	}
	if !a.opts.NoProxy {
		t.Proxy = http.ProxyFromEnvironment
	}
	return t
}

func (a *asker) ask(ctx context.Context, p Provider, f Family) Answer {
	ans := Answer{Type: "provider_answer", Provider: p.Spec, Method: p.Method, Family: f.Key()}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, a.opts.timeout())
	defer cancel()
	var err error
	if p.Method == MethodDNS {
		err = a.askDNS(ctx, p, f, &ans)
	} else {
		err = a.askHTTP(ctx, p, f, &ans)
	}
	ans.ElapsedMS = probe.Millis(time.Since(start))
	if err != nil {
		ans.OK = false
		ans.Address = ""
		var ae *AnswerError
		switch {
		case errors.As(err, &ae):
			ans.Failure, ans.Error = ae.Code, ae.Reason
		case errors.Is(ctx.Err(), context.Canceled):
			// Cancelled (quorum reached, Ctrl-C), whatever form the
			// error of the interrupted call took.
			ans.Failure, ans.Error = FailCanceled, "canceled"
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			ans.Failure, ans.Error = probe.FailTimeout, "no answer before the timeout"
		default:
			ans.Failure, ans.Error = failureCode(err), describe(err)
		}
		return ans
	}
	ans.OK = true
	ans.Address = ans.addr.String()
	return ans
}

// failureCode maps an error to a failure code.
func failureCode(err error) string {
	var ae *AnswerError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return probe.Classify(err)
}

// describe turns a transport error into a short line.
func describe(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT):
		return "no answer before the timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		msg := oe.Err.Error()
		if oe.Addr != nil {
			return oe.Op + " " + oe.Addr.String() + ": " + msg
		}
		return msg
	}
	return output.Escape(err.Error())
}

func (a *asker) askHTTP(ctx context.Context, p Provider, f Family, ans *Answer) error {
	if h := p.URL.Hostname(); h != "" {
		if ip, err := netip.ParseAddr(h); err == nil && FamilyOf(ip) != f {
			return &AnswerError{Code: FailUnusable, Reason: fmt.Sprintf("%s is an %s address, cannot be asked over %s", ip, FamilyOf(ip), f)}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", a.opts.userAgent())
	req.Header.Set("Accept", "text/plain, */*;q=0.1")
	t := a.transport[f]
	if t.Proxy != nil {
		if pu, err := t.Proxy(req); err == nil && pu != nil {
			ans.Proxy = pu.Redacted()
		}
	}
	trace := &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) {
			ans.Server = ci.Conn.RemoteAddr().String()
			ans.Local = ci.Conn.LocalAddr().String()
		},
	}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	client := &http.Client{
		Transport: t,
		// A single-purpose endpoint that redirects is not answering.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	ans.HTTPStatus = resp.StatusCode
	if resp.TLS != nil {
		ans.TLS = tls.VersionName(resp.TLS.Version)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc := resp.Header.Get("Location")
		return &AnswerError{Code: FailRedirect, Reason: fmt.Sprintf("HTTP %d redirect to %s not followed", resp.StatusCode, quote([]byte(loc)))}
	}
	if resp.StatusCode != http.StatusOK {
		ans.Body = snippet(body)
		reason := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if k := pageKind(body); k != "" {
			reason += ", " + k
		}
		return &AnswerError{Code: FailHTTPStatus, Reason: reason}
	}
	addr, err := ValidateBody(body, f, a.opts.Validate)
	if err != nil {
		ans.Body = snippet(body)
		return err
	}
	ans.addr = addr
	return nil
}

func snippet(b []byte) string {
	if len(b) > 64 {
		return output.EscapeBytes(b[:64]) + "..."
	}
	return output.EscapeBytes(b)
}

// askDNS sends the provider's query over UDP (TCP when the reply is
// truncated) to its server in family f, and validates the address in the
// reply.
func (a *asker) askDNS(ctx context.Context, p Provider, f Family, ans *Answer) error {
	server, err := a.pickServer(ctx, p, f)
	if err != nil {
		return err
	}
	ans.Server = server.String()
	qtype := p.QtypeFor(f)
	m := new(dns.Msg)
	m.SetQuestion(p.Name, qtype)
	m.Question[0].Qclass = p.Qclass
	m.RecursionDesired = true
	m.SetEdns0(1232, false)
	r, local, err := exchange(ctx, udpNetwork(f), server, m)
	if err == nil && r.Truncated {
		r, local, err = exchange(ctx, tcpNetwork(f), server, m)
	}
	ans.Local = local
	if err != nil {
		return err
	}
	addr, err := addressFromReply(m, r, f, a.opts.Validate)
	if err != nil {
		return err
	}
	ans.addr = addr
	return nil
}

func (a *asker) pickServer(ctx context.Context, p Provider, f Family) (netip.AddrPort, error) {
	var lastErr error
	for _, s := range p.Servers {
		if ip, err := netip.ParseAddr(s.Host); err == nil {
			if FamilyOf(ip) == f {
				return netip.AddrPortFrom(ip.Unmap(), uint16(s.Port)), nil
			}
			continue
		}
		network := "ip4"
		if f == IPv6 {
			network = "ip6"
		}
		ips, err := a.opts.resolver().LookupNetIP(ctx, network, s.Host)
		if err != nil {
			lastErr = err
			continue
		}
		if len(ips) > 0 {
			return netip.AddrPortFrom(ips[0].Unmap(), uint16(s.Port)), nil
		}
	}
	if lastErr != nil {
		return netip.AddrPort{}, lastErr
	}
	return netip.AddrPort{}, &AnswerError{Code: FailUnusable, Reason: "no " + f.String() + " server in " + p.Spec}
}

// exchange sends m and reads until a reply that matches it (ID, QR bit,
// question) arrives; stray or garbled datagrams are ignored, as a resolver
// must. ctx ends the exchange.
func exchange(ctx context.Context, network string, server netip.AddrPort, m *dns.Msg) (*dns.Msg, string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, server.String())
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	local := c.LocalAddr().String()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	co := &dns.Conn{Conn: c, UDPSize: 1232}
	if err := co.WriteMsg(m); err != nil {
		return nil, local, ctxErr(ctx, err)
	}
	if _, ok := c.(*net.UDPConn); !ok {
		r, err := co.ReadMsg()
		if err != nil {
			return nil, local, ctxErr(ctx, err)
		}
		if !matches(m, r) {
			return nil, local, &AnswerError{Code: probe.FailProtocol, Reason: "reply does not match the query (ID or question)"}
		}
		return r, local, nil
	}
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil, local, ctxErr(ctx, err)
		}
		r := new(dns.Msg)
		if r.Unpack(buf[:n]) != nil || !matches(m, r) {
			continue
		}
		return r, local, nil
	}
}

// ctxErr reports the context's error when it ended the exchange (a closed
// socket says less).
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func matches(q, r *dns.Msg) bool {
	if r.Id != q.Id || !r.Response || len(r.Question) != 1 {
		return false
	}
	a, b := q.Question[0], r.Question[0]
	return strings.EqualFold(a.Name, b.Name) && a.Qtype == b.Qtype && a.Qclass == b.Qclass
}

// addressFromReply finds the one address in r's answer to q: A or AAAA
// records, or TXT strings that parse as an address, owned by the query name
// or a name its CNAME chain leads to.
func addressFromReply(q, r *dns.Msg, f Family, o ValidateOptions) (netip.Addr, error) {
	switch r.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return netip.Addr{}, &AnswerError{Code: probe.FailDNSNXDomain, Reason: "NXDOMAIN"}
	case dns.RcodeServerFailure:
		return netip.Addr{}, &AnswerError{Code: probe.FailDNSServFail, Reason: "SERVFAIL"}
	case dns.RcodeRefused:
		return netip.Addr{}, &AnswerError{Code: probe.FailDNSRefused, Reason: "REFUSED"}
	default:
		return netip.Addr{}, &AnswerError{Code: probe.FailDNSRcode, Reason: dns.RcodeToString[r.Rcode]}
	}
	qq := q.Question[0]
	names := map[string]bool{strings.ToLower(qq.Name): true}
	for i := 0; i < 8; i++ { // follow a CNAME chain, bounded
		grew := false
		for _, rr := range r.Answer {
			if c, ok := rr.(*dns.CNAME); ok && names[strings.ToLower(c.Hdr.Name)] && !names[strings.ToLower(c.Target)] {
				names[strings.ToLower(c.Target)] = true
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	var found []netip.Addr
	var texts []string
	for _, rr := range r.Answer {
		h := rr.Header()
		if !names[strings.ToLower(h.Name)] || h.Class != qq.Qclass || h.Rrtype != qq.Qtype {
			continue
		}
		var s string
		switch v := rr.(type) {
		case *dns.A:
			s = v.A.String()
		case *dns.AAAA:
			s = v.AAAA.String()
		case *dns.TXT:
			s = strings.TrimSpace(strings.Join(v.Txt, ""))
			texts = append(texts, s)
		default:
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue // Google adds an "edns0-client-subnet ..." TXT through resolvers
		}
		a = a.Unmap()
		dup := false
		for _, x := range found {
			dup = dup || x == a
		}
		if !dup {
			found = append(found, a)
		}
	}
	switch {
	case len(found) == 0 && len(texts) > 0:
		return netip.Addr{}, &AnswerError{Code: FailNotAnAddress, Reason: "TXT answer is not an address: " + quote([]byte(texts[0]))}
	case len(found) == 0:
		return netip.Addr{}, &AnswerError{Code: FailNoAnswer, Reason: "no " + dns.TypeToString[qq.Qtype] + " record for " + output.Escape(qq.Name) + " in the reply"}
	case len(found) > 1:
		list := make([]string, len(found))
		for i, a := range found {
			list[i] = a.String()
		}
		if len(list) > 4 {
			list = append(list[:4], "...")
		}
		return netip.Addr{}, &AnswerError{Code: FailNotAnAddress, Reason: strconv.Itoa(len(found)) + " different addresses in the reply (" + strings.Join(list, ", ") + "), not one"}
	}
	return ValidateIP(found[0], f, o)
}
