package exporter

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/resolve"
)

// Scrape is what a probe works with: the registry its metrics go to, the
// log shown by ?debug=true, and the exporter's state that outlives one
// scrape (the myip change counters).
type Scrape struct {
	Reg   *Registry
	Log   *Log
	state *state
}

// ProbeFunc is the one signature of every prober: the deadline is ctx's,
// a failed probe returns false with its metrics set (failure is data).
type ProbeFunc func(ctx context.Context, target string, m *Module, s *Scrape) bool

// Probers maps prober names to probes.
var Probers = map[string]ProbeFunc{}

func init() {
	Probers["http"] = ProbeHTTP
	Probers["tcp"] = ProbeTCP
	Probers["icmp"] = ProbeICMP
	Probers["dns"] = ProbeDNS
	Probers["myip"] = ProbeMyIP
	Probers["trace"] = ProbeTrace
}

// Log collects one probe's log lines, logfmt style as blackbox writes them.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Log) log(level, msg string, kv ...any) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 64<<10 {
		return
	}
	fmt.Fprintf(&l.buf, "ts=%s level=%s msg=%s", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), level, strconv.Quote(msg))
	for i := 0; i+1 < len(kv); i += 2 {
		v := fmt.Sprint(kv[i+1])
		fmt.Fprintf(&l.buf, " %v=%s", kv[i], quoteIfNeeded(output.Escape(v)))
	}
	l.buf.WriteByte('\n')
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \"=") {
		return strconv.Quote(s)
	}
	return s
}

// Debugf etc. log at a level.
func (l *Log) Debug(msg string, kv ...any) { l.log("debug", msg, kv...) }
func (l *Log) Info(msg string, kv ...any)  { l.log("info", msg, kv...) }
func (l *Log) Error(msg string, kv ...any) { l.log("error", msg, kv...) }

// String is the log so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Helps shared by several probers (blackbox's wording).
const (
	helpLookup   = "Returns the time taken for probe dns lookup in seconds"
	helpProto    = "Specifies whether probe ip protocol is IP4 or IP6"
	helpAddrHash = "Specifies the hash of IP address. It's useful to detect if the IP address changes."
	helpRegex    = "Indicates if probe failed due to regex"
)

func ipHash(a netip.Addr) float64 {
	h := fnv.New32a()
	b := a.Unmap().AsSlice()
	h.Write(b)
	return float64(h.Sum32())
}

// chooseProtocol turns the target's host into one address as blackbox does:
// preferred family first (ip6 when not set), the other one when fallback
// is allowed. Names are looked up with dnsServer when the module names one,
// else the system resolver; literals are taken as they are.
func chooseProtocol(ctx context.Context, s *Scrape, host, pref string, fallback bool, dnsServer string) (netip.Addr, float64, error) {
	s.Reg.Set("probe_dns_lookup_time_seconds", helpLookup, 0)
	s.Reg.Set("probe_ip_protocol", helpProto, 0)
	s.Reg.Set("probe_ip_addr_hash", helpAddrHash, 0)
	want6 := pref != "ip4"
	start := time.Now()
	addrs, err := lookup(ctx, host, dnsServer)
	took := time.Since(start).Seconds()
	s.Reg.Set("probe_dns_lookup_time_seconds", helpLookup, took)
	if err != nil {
		s.Log.Error("Resolution with IP protocol failed", "target", host, "err", err)
		return netip.Addr{}, took, err
	}
	var chosen, other netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is6() == want6 && !chosen.IsValid() {
			chosen = a
		}
		if a.Is6() != want6 && !other.IsValid() {
			other = a
		}
	}
	if !chosen.IsValid() {
		if !fallback || !other.IsValid() {
			s.Log.Error("Resolution with IP protocol failed", "target", host, "ip_protocol", pref)
			return netip.Addr{}, took, fmt.Errorf("unable to find an address of the preferred family for %s", host)
		}
		chosen = other
	}
	proto := 4.0
	if chosen.Is6() {
		proto = 6
	}
	s.Reg.Set("probe_ip_protocol", helpProto, proto)
	s.Reg.Set("probe_ip_addr_hash", helpAddrHash, ipHash(chosen))
	s.Log.Debug("Resolved target address", "target", host, "ip", chosen)
	return chosen, took, nil
}

// lookup resolves host: a literal as it is, else through the module's DNS
// server (A and AAAA with nettool's resolver) or the system's.
func lookup(ctx context.Context, host, dnsServer string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	if dnsServer == "" {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	return lookupWith(ctx, host, dnsServer)
}

func lookupWith(ctx context.Context, host, dnsServer string) ([]netip.Addr, error) {
	srv, err := resolve.ParseServer(dnsServer)
	if err != nil {
		return nil, err
	}
	timeout := 2 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	c := &resolve.Client{Opts: resolve.Options{Timeout: timeout}}
	defer c.Close()
	type res struct {
		r  *resolve.Result
		v6 bool
	}
	ch := make(chan res, 2)
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		go func() {
			ch <- res{c.Lookup(ctx, srv, resolve.NewQuestion(host, t, dns.ClassINET)), t == dns.TypeAAAA}
		}()
	}
	var out []netip.Addr
	var firstErr string
	for range 2 {
		r := <-ch
		if !r.r.OK {
			if firstErr == "" {
				firstErr = r.r.Error
				if firstErr == "" {
					firstErr = r.r.Failure
				}
			}
			continue
		}
		if r.r.Msg == nil {
			continue
		}
		for _, rr := range r.r.Msg.Answer {
			switch v := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
					out = append(out, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(v.AAAA); ok {
					out = append(out, a)
				}
			}
		}
	}
	if len(out) == 0 {
		if firstErr == "" {
			firstErr = "no address"
		}
		return nil, fmt.Errorf("%s via %s: %s", host, dnsServer, firstErr)
	}
	return out, nil
}

// remaining is the time left before ctx's deadline.
func remaining(ctx context.Context, def time.Duration) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		if r := time.Until(d); r > 0 {
			return r
		}
		return time.Millisecond
	}
	return def
}
