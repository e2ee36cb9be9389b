package resolve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// DefaultUDPSize is the EDNS0 UDP payload size nettool advertises (the DNS
// flag day 2020 value).
const DefaultUDPSize = 1232

// Options shape every query.
type Options struct {
	TCP     bool          // plain TCP instead of UDP
	DNSSEC  bool          // set the DO bit
	NSID    bool          // ask for the server's NSID
	NoRD    bool          // clear the recursion-desired bit
	CD      bool          // set checking disabled (dig +cdflag)
	NoAD    bool          // clear the AD bit, which queries carry by default as dig's do (RFC 6840 section 5.7)
	Subnet  string        // EDNS client subnet, "192.0.2.0/24"
	UDPSize uint16        // EDNS0 UDP size (DefaultUDPSize when 0)
	Timeout time.Duration // per try
	Retries int           // tries after the first
	TLS     *tls.Config   // for DoT and DoH (nil: system roots)
	// Family, 4 or 6, asks servers over that IP version only, as dig -4/-6:
	// a server named by host name is looked up in that family, a DoH
	// server dialled in it, and a server address of the other family is
	// refused. 0: either.
	Family int
}

// CheckSubnet validates an EDNS client subnet ("192.0.2.0/24", "2001:db8::/56",
// or an address alone).
func CheckSubnet(s string) error {
	_, err := parseSubnet(s)
	return err
}

func parseSubnet(s string) (*dns.EDNS0_SUBNET, error) {
	var p netip.Prefix
	var err error
	if strings.Contains(s, "/") {
		p, err = netip.ParsePrefix(s)
	} else {
		var a netip.Addr
		a, err = netip.ParseAddr(s)
		if err == nil {
			p = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil {
		return nil, probe.Usagef("bad subnet %q: want ADDR/BITS", s)
	}
	p = p.Masked()
	e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, SourceNetmask: uint8(p.Bits()), Address: net.IP(p.Addr().Unmap().AsSlice())}
	if p.Addr().Unmap().Is4() {
		e.Family = 1
		e.Address = net.IP(p.Addr().Unmap().AsSlice()).To4()
	} else {
		e.Family = 2
	}
	return e, nil
}

// queryID is a new query's ID, from the runtime's ChaCha8 generator (seeded
// by the kernel at exec): unpredictable to an off-path spoofer, as miekg's
// dns.Id (crypto/rand) is, without a getrandom call and its first-use set-up
// in every one-shot run. Every query of this package takes its ID from here.
func queryID() uint16 { return uint16(rand.Uint32()) }

// NewQuery builds the message for q with the options' EDNS0 and header bits.
func NewQuery(q Question, o Options) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.Id = queryID()
	m.RecursionDesired = !o.NoRD
	m.AuthenticatedData = !o.NoAD
	m.CheckingDisabled = o.CD
	m.Question = []dns.Question{{Name: q.Name, Qtype: q.qtype, Qclass: q.qclass}}
	size := o.UDPSize
	if size == 0 {
		size = DefaultUDPSize
	}
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	opt.SetUDPSize(size)
	if o.DNSSEC {
		opt.SetDo()
	}
	if o.NSID {
		opt.Option = append(opt.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	}
	if o.Subnet != "" {
		e, err := parseSubnet(o.Subnet)
		if err != nil {
			return nil, err
		}
		opt.Option = append(opt.Option, e)
	}
	m.Extra = append(m.Extra, opt)
	return m, nil
}

// Client runs queries. It is safe for concurrent use: each exchange has its
// own socket, and the TCP fallback never changes shared state.
type Client struct {
	Opts Options

	once sync.Once
	hc   *http.Client
	// pipes, when set, carries TCP and TLS queries on shared connections
	// (batches); otherwise each exchange has its own connection.
	pipes *pipePool
	// udp, when set, carries UDP queries on one shared socket per server
	// (a trace); otherwise each exchange has its own socket.
	udp *udpMux
	// bare: results carry the reply (Msg), rcode, flags and RTT but no
	// presentation records; for callers that read Msg only (a trace).
	bare bool
}

func (c *Client) httpClient() *http.Client {
	c.once.Do(func() {
		tr := &http.Transport{
			Proxy:               nil,
			DialContext:         familyDialer(c.Opts.Family),
			TLSClientConfig:     c.Opts.TLS,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     10 * time.Second,
			// A DoH reply's head is a few lines; net/http's default
			// would take 10 MiB of them.
			MaxResponseHeaderBytes: 64 << 10,
		}
		c.hc = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	})
	return c.hc
}

// Close releases idle DoH connections.
func (c *Client) Close() {
	if c.hc != nil {
		c.hc.CloseIdleConnections()
	}
	if c.pipes != nil {
		c.pipes.close()
	}
	if c.udp != nil {
		c.udp.close()
	}
}

// exchangeStream sends m over TCP or TLS: on a shared connection when the
// client pipelines, on a fresh one otherwise.
func (c *Client) exchangeStream(ctx context.Context, addr string, tlsConf *tls.Config, m *dns.Msg, deadline time.Time) (*dns.Msg, time.Duration, error) {
	if c.pipes != nil {
		return c.pipes.exchange(ctx, addr, tlsConf, m, deadline)
	}
	return exchangeStream(ctx, addr, tlsConf != nil, tlsConf, m, deadline)
}

func (c *Client) tlsConfig(s Server) *tls.Config {
	var conf *tls.Config
	if c.Opts.TLS != nil {
		conf = c.Opts.TLS.Clone()
	} else {
		conf = &tls.Config{}
	}
	if conf.ServerName == "" {
		conf.ServerName = s.Host
	}
	return conf
}

// Lookup asks server s about q and returns the result; a failed lookup is a
// result with OK false, never a Go error.
func (c *Client) Lookup(ctx context.Context, s Server, q Question) *Result {
	res := &Result{Meta: probe.Meta{Type: "dns", Target: q.Name, Start: time.Now()}, Question: q, Server: s.String(), Transport: string(s.Transport)}
	if s.Transport == UDP && c.Opts.TCP {
		res.Transport = string(TCP)
	}
	defer func() { res.ElapsedMS = probe.Millis(time.Since(res.Start)) }()
	m, err := NewQuery(q, c.Opts)
	if err != nil {
		res.fail(err)
		return res
	}
	if s.Transport == HTTPS {
		m.Id = 0 // RFC 8484 section 4.1: cache friendly
	}
	timeout := c.Opts.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	tries := c.Opts.Retries + 1
	if tries < 1 {
		tries = 1
	}
	var addr string
	if s.Transport != HTTPS {
		actx, cancel := context.WithTimeout(ctx, timeout)
		addr, err = s.resolveAddr(actx, c.Opts.Family)
		cancel()
		if err != nil {
			res.fail(fmt.Errorf("server %s: %w", s.Host, err))
			return res
		}
	}
	var packed []byte
	var r *dns.Msg
	var rtt time.Duration
	for try := 1; try <= tries; try++ {
		res.Tries = try
		deadline := time.Now().Add(timeout)
		switch {
		case s.Transport == UDP && !c.Opts.TCP:
			if packed == nil {
				if packed, err = m.Pack(); err != nil {
					res.fail(err)
					return res
				}
			}
			if c.udp != nil {
				r, rtt, err = c.udp.exchange(ctx, addr, m, packed, deadline, int(c.Opts.UDPSize))
			} else {
				r, rtt, err = exchangeUDP(ctx, addr, m, packed, deadline, int(c.Opts.UDPSize))
			}
			if err == nil && r.Truncated {
				// A new exchange over TCP, on its own connection: the
				// client's state stays as it was (doggo mutated its shared
				// client here and raced).
				res.TCPFallback = true
				res.Transport = string(TCP)
				r, rtt, err = c.exchangeStream(ctx, addr, nil, m, time.Now().Add(timeout))
			}
		case s.Transport == UDP || s.Transport == TCP:
			r, rtt, err = c.exchangeStream(ctx, addr, nil, m, deadline)
		case s.Transport == TLS:
			r, rtt, err = c.exchangeStream(ctx, addr, c.tlsConfig(s), m, deadline)
		case s.Transport == HTTPS:
			r, rtt, err = exchangeHTTPS(ctx, c.httpClient(), s.URL, m, deadline)
		}
		if err == nil || ctx.Err() != nil || !retryable(err) {
			break
		}
	}
	var me *malformedError
	if errors.As(err, &me) {
		c.fill(res, me.msg, rtt)
		res.setMalformed(me.why)
		return res
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		res.fail(err)
		if res.Failure == probe.FailTimeout {
			res.Error = fmt.Sprintf("no reply from %s in %s of %s", s, probe.Count(res.Tries, "try", "tries"), timeout)
			var ie *ignoredError
			if errors.As(err, &ie) {
				res.Error += fmt.Sprintf(" (ignored %s: %s)", probe.Count(ie.ignored, "reply", "replies"), ie.why)
			}
		}
		return res
	}
	c.fill(res, r, rtt)
	return res
}

// fill describes reply m in res, bare or with its records.
func (c *Client) fill(res *Result, m *dns.Msg, rtt time.Duration) {
	if c.bare {
		res.fillBare(m, rtt)
	} else {
		res.fill(m, rtt)
	}
}

// retryable: timeouts and refused/reset connections are tried again; a
// malformed reply or a TLS failure is not.
func retryable(err error) bool {
	if errors.Is(err, ErrBadReply) {
		return false
	}
	switch probe.Classify(err) {
	case probe.FailTimeout, probe.FailConnRefused, probe.FailConnReset, probe.FailEOF:
		return true
	}
	return false
}

// Result is one question asked of one server.
type Result struct {
	probe.Meta
	Question    Question `json:"question"`
	InputName   string   `json:"input_name,omitempty"` // the name as typed, when the search list made Question.Name
	Server      string   `json:"server"`
	Transport   string   `json:"transport"`
	TCPFallback bool     `json:"tcp_fallback"`
	Tries       int      `json:"tries"`
	Rcode       string   `json:"rcode,omitempty"`
	Flags       *Flags   `json:"flags,omitempty"`
	RTTMS       float64  `json:"rtt_ms"`
	EDNS        *EDNS    `json:"edns,omitempty"`
	Answer      []Record `json:"answer"`
	Authority   []Record `json:"authority"`
	Additional  []Record `json:"additional"`
	// Malformed says what is wrong with a reply whose header and content
	// disagree (dig: "Message parser reports malformed message packet");
	// the records it did carry are shown, and the result fails with
	// protocol_error.
	Malformed string `json:"malformed,omitempty"`

	Msg *dns.Msg `json:"-"` // the reply, nil when there was none

	// Storage the batch's fast path fills instead of allocating: Flags and
	// EDNS point into it, the sections are slices of recs.
	flags Flags
	edns  EDNS
	recs  []Record
}

// Flags are the header bits of a reply.
type Flags struct {
	QR bool `json:"qr"`
	AA bool `json:"aa"`
	TC bool `json:"tc"`
	RD bool `json:"rd"`
	RA bool `json:"ra"`
	AD bool `json:"ad"`
	CD bool `json:"cd"`
}

// String lists the set flags dig-style: "qr aa rd".
func (f *Flags) String() string {
	if f == nil {
		return ""
	}
	var out []string
	for _, b := range []struct {
		on   bool
		name string
	}{{f.QR, "qr"}, {f.AA, "aa"}, {f.TC, "tc"}, {f.RD, "rd"}, {f.RA, "ra"}, {f.AD, "ad"}, {f.CD, "cd"}} {
		if b.on {
			out = append(out, b.name)
		}
	}
	return strings.Join(out, " ")
}

// EDNS is the OPT record of a reply.
type EDNS struct {
	Version   uint8    `json:"version"`
	UDPSize   uint16   `json:"udp_size"`
	DO        bool     `json:"do"`
	NSID      string   `json:"nsid,omitempty"`     // as text, escaped zone-file style
	NSIDHex   string   `json:"nsid_hex,omitempty"` // the raw bytes in hex
	Subnet    string   `json:"subnet,omitempty"`
	ExtRcode  string   `json:"extended_rcode,omitempty"`
	EDE       []string `json:"ede,omitempty"` // extended DNS errors (RFC 8914)
	OtherOpts []string `json:"options,omitempty"`
}

// setMalformed marks a reply that came but is malformed.
func (r *Result) setMalformed(why string) {
	r.Malformed = why
	r.OK = false
	r.Failure = probe.FailProtocol
	r.Error = fmt.Sprintf("%v: %s", ErrBadReply, why)
}

func (r *Result) fail(err error) {
	r.Meta.Fail(err)
	if r.Failure == probe.FailUnknown && errors.Is(err, ErrBadReply) {
		r.Failure = probe.FailProtocol
	}
}

// Failure codes and their rcodes.
func rcodeFailure(rcode int) string {
	switch rcode {
	case dns.RcodeSuccess:
		return ""
	case dns.RcodeNameError:
		return probe.FailDNSNXDomain
	case dns.RcodeServerFailure:
		return probe.FailDNSServFail
	case dns.RcodeRefused:
		return probe.FailDNSRefused
	}
	return probe.FailDNSRcode
}

// RcodeString names an rcode (extended rcodes included).
func RcodeString(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

func (r *Result) fill(m *dns.Msg, rtt time.Duration) { r.fillWith(m, rtt, false) }

// fillHeader sets what every fill does: the reply, its RTT, rcode and flags.
func (r *Result) fillHeader(m *dns.Msg, rtt time.Duration) {
	r.Msg = m
	r.RTTMS = probe.Millis(rtt)
	r.Rcode = RcodeString(m.Rcode)
	r.Flags = &Flags{QR: m.Response, AA: m.Authoritative, TC: m.Truncated, RD: m.RecursionDesired, RA: m.RecursionAvailable, AD: m.AuthenticatedData, CD: m.CheckingDisabled}
}

// fillBare is fill without the presentation records: Answer, Authority
// and Additional stay empty, the verdict (OK, NODATA, rcode) is the same.
func (r *Result) fillBare(m *dns.Msg, rtt time.Duration) {
	r.fillHeader(m, rtt)
	r.Answer, r.Authority, r.Additional = []Record{}, []Record{}, []Record{}
	var typed []Record
	for _, rr := range m.Answer {
		if t := TypeString(rr.Header().Rrtype); t == r.Question.Type || r.Question.Type == "ANY" {
			typed = append(typed, Record{Type: t})
			break
		}
	}
	r.judge(m.Rcode, typed)
}

// fillWith describes reply m; lite leaves typed record fields to the JSON
// writer (the batch's hot path).
func (r *Result) fillWith(m *dns.Msg, rtt time.Duration, lite bool) {
	r.fillHeader(m, rtt)
	r.Answer = records(m.Answer, lite)
	r.Authority = records(m.Ns, lite)
	r.Additional = records(m.Extra, lite)
	if opt := m.IsEdns0(); opt != nil {
		r.EDNS = ednsInfo(opt)
		if opt.ExtendedRcode() != 0 {
			r.EDNS.ExtRcode = RcodeString(m.Rcode)
		}
	}
	r.judge(m.Rcode, r.Answer)
}

func ednsInfo(opt *dns.OPT) *EDNS {
	e := &EDNS{Version: opt.Version(), UDPSize: opt.UDPSize(), DO: opt.Do()}
	for _, o := range opt.Option {
		switch v := o.(type) {
		case *dns.EDNS0_NSID:
			e.NSIDHex = v.Nsid
			e.NSID = nsidText(v.Nsid)
		case *dns.EDNS0_SUBNET:
			e.Subnet = fmt.Sprintf("%s/%d/%d", v.Address, v.SourceNetmask, v.SourceScope)
		case *dns.EDNS0_EDE:
			e.EDE = append(e.EDE, v.String())
		default:
			e.OtherOpts = append(e.OtherOpts, o.String())
		}
	}
	return e
}

// nsidText decodes the hex NSID and escapes it zone-file style.
func nsidText(h string) string {
	var b strings.Builder
	for i := 0; i+1 < len(h); i += 2 {
		n, err := strconv.ParseUint(h[i:i+2], 16, 8)
		if err != nil {
			return ""
		}
		c := byte(n)
		if c < 0x20 || c > 0x7e || c == '\\' || c == '"' {
			fmt.Fprintf(&b, "\\%03d", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
