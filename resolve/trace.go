package resolve

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// TraceOptions shape an iterative resolution.
type TraceOptions struct {
	Hints []NameServer // the root servers; nil: RootHints()
	// Start, when set, is asked (recursion desired) for the NS set of "."
	// and the servers it names are the root level, as dig +trace does with
	// @SERVER.
	Start *Server
	Port  int // port every server of the trace is asked on (53 when 0)
	QMin  bool
	// Validate checks the DNSSEC chain from Anchors (RootAnchors() when nil).
	Validate bool
	Anchors  []dns.RR
	Now      time.Time // validation time (time.Now() when zero)
	Query    Options   // per query: timeout, retries, TCP, UDP size

	// NoIPv4 and NoIPv6 leave out the name-server addresses of a family
	// (hints, glue and looked-up addresses alike); at most one may be set.
	NoIPv4, NoIPv6 bool

	MaxDepth     int // zone cuts on one path (16)
	MaxReferrals int // referrals, CNAME restarts and name-server lookups in all (64)
	MaxServers   int // addresses asked per level (16)
	Parallel     int // queries in flight (32)
}

func (o *TraceOptions) defaults() {
	if o.Port == 0 {
		o.Port = 53
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 16
	}
	if o.MaxReferrals <= 0 {
		o.MaxReferrals = 64
	}
	if o.MaxServers <= 0 {
		o.MaxServers = 16
	}
	if o.Parallel <= 0 {
		o.Parallel = 32
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Query.NoRD = true
	o.Query.DNSSEC = true
	if o.Query.Timeout <= 0 {
		o.Query.Timeout = 2 * time.Second
	}
}

// Finding codes: stable, snake_case, in JSON as "code".
const (
	FindLame           = "lame_delegation"     // not authoritative, REFUSED, SERVFAIL, a referral sideways
	FindTimeout        = "server_timeout"      // no reply in the tries given
	FindUnreachable    = "server_error"        // the query could not be sent or the reply was unusable
	FindNSMismatch     = "ns_mismatch"         // the parent's and the child's NS sets differ
	FindGlueMismatch   = "glue_mismatch"       // glue differs from the authoritative address
	FindSerialMismatch = "soa_serial_mismatch" // the servers of a zone give different SOA serials
	FindNSUnresolvable = "ns_unresolvable"     // an NS name has no address
	FindCNAME          = "cname_cross_zone"    // a CNAME was followed into another zone
	FindDNAME          = "dname_followed"      // a DNAME was followed
	FindLoop           = "referral_loop"       // a referral back to the zone itself or up, or a CNAME loop
	FindTooDeep        = "too_deep"            // more zone cuts, referrals or CNAMEs than the bounds allow
	FindDisagree       = "servers_disagree"    // the servers of one zone gave different outcomes
	FindNoServer       = "no_server"           // no server of a zone gave a usable reply
)

// Finding is one problem or notable event seen on the way.
type Finding struct {
	Type     string `json:"type"` // "trace_finding"
	Code     string `json:"code"`
	Severity string `json:"severity"` // "error", "warning" or "info"
	Zone     string `json:"zone,omitempty"`
	Server   string `json:"server,omitempty"`
	Message  string `json:"message"`
}

// TraceServer is what one address of one name server said at one level.
type TraceServer struct {
	Type     string   `json:"type"` // "trace_server"
	Name     string   `json:"name"`
	Addr     string   `json:"addr"`
	Source   string   `json:"source"`  // where the address came from: hint, glue, resolved, start
	Outcome  string   `json:"outcome"` // referral, answer, cname, nxdomain, nodata, lame, timeout, error
	Rcode    string   `json:"rcode,omitempty"`
	AA       bool     `json:"aa"`
	RTTMS    float64  `json:"rtt_ms"`
	Tries    int      `json:"tries"`
	Referral string   `json:"referral,omitempty"` // the child zone
	NS       []string `json:"ns,omitempty"`       // the NS set of the referral
	Answer   []string `json:"answer,omitempty"`   // answer records, presentation form
	Serial   *uint32  `json:"soa_serial,omitempty"`
	ZoneNS   []string `json:"zone_ns,omitempty"` // the zone's own NS set, as this server gives it
	Error    string   `json:"error,omitempty"`

	reply *Result
}

// TraceLevel is one zone asked on the way.
type TraceLevel struct {
	Type      string         `json:"type"` // "trace_level"
	Zone      string         `json:"zone"`
	QName     string         `json:"qname"`
	QType     string         `json:"qtype"`
	Outcome   string         `json:"outcome"`
	Referral  string         `json:"referral,omitempty"`
	Chosen    string         `json:"chosen,omitempty"` // the server whose reply was followed
	ElapsedMS float64        `json:"elapsed_ms"`
	Servers   []*TraceServer `json:"servers"`

	chosen *dns.Msg            // the followed reply
	parent int                 // index of the level that referred here, -1 at the top
	keys   map[string]*dns.Msg // DNSKEY replies per server addr (validation)
	ns     []NameServer

	jobs     []*job // until finishLevel
	parentNS []NameServer
	qtype    uint16
}

// TraceResult is the whole iterative resolution.
type TraceResult struct {
	probe.Meta
	Question   Question      `json:"question"`
	Status     string        `json:"status"` // answer, nxdomain, nodata, failed
	Rcode      string        `json:"rcode,omitempty"`
	QMin       bool          `json:"qmin"`
	Queries    int           `json:"queries"`
	Levels     []*TraceLevel `json:"levels"`
	Answer     []Record      `json:"answer"`
	Findings   []Finding     `json:"findings"`
	Validation *Validation   `json:"validation,omitempty"`

	final    *dns.Msg // the reply that ended the last segment
	segments []segment
}

// segment is one resolution from the root: the first for the question, one
// more per CNAME followed out of the answering zone.
type segment struct {
	qname  string
	levels []int // indexes into Levels
	final  *dns.Msg
	zone   string
}

type tracer struct {
	o       TraceOptions
	c       *Client
	res     *TraceResult
	sem     chan struct{}
	mu      sync.Mutex
	budget  int
	addrs   map[string][]netip.Addr // NS name -> addresses found on the way
	cuts    map[string][]NameServer // zone -> servers, for name-server lookups
	lookups map[string]bool         // NS names being looked up (loop guard)
	bg      sync.WaitGroup          // queries still running after their level moved on
}

// Trace resolves name/qtype iteratively from the root, asking every server
// of every zone on the way. It returns an error only for bad input; a
// failed resolution is a result with OK false.
func Trace(ctx context.Context, name string, qtype, qclass uint16, o TraceOptions) (*TraceResult, error) {
	o.defaults()
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if o.NoIPv4 && o.NoIPv6 {
		return nil, probe.Usagef("-4 and -6 cannot be used together")
	}
	q := NewQuestion(name, qtype, qclass)
	res := &TraceResult{Meta: probe.Meta{Type: "resolve_trace", Target: q.Name, Start: time.Now()}, Question: q, QMin: o.QMin, Answer: []Record{}, Findings: []Finding{}, Levels: []*TraceLevel{}}
	t := &tracer{o: o, c: &Client{Opts: o.Query, udp: newUDPMux(), bare: true}, res: res, sem: make(chan struct{}, o.Parallel), budget: o.MaxReferrals,
		addrs: map[string][]netip.Addr{}, cuts: map[string][]NameServer{}, lookups: map[string]bool{}}
	defer t.c.Close()
	t.run(ctx, q)
	t.bg.Wait()
	for _, lv := range res.Levels {
		t.finishLevel(lv)
	}
	res.ElapsedMS = probe.Millis(time.Since(res.Start))
	if o.Validate && res.Status != "failed" {
		res.Validation = t.validate(ctx)
	}
	return res, nil
}

func (t *tracer) finding(code, sev, zone, server, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	for _, f := range t.res.Findings {
		if f.Code == code && f.Zone == zone && f.Server == server && f.Message == msg {
			return
		}
	}
	t.res.Findings = append(t.res.Findings, Finding{Type: "trace_finding", Code: code, Severity: sev, Zone: zone, Server: server, Message: msg})
}

func (t *tracer) fail(code, msg string) {
	t.res.Status = "failed"
	t.res.OK = false
	t.res.Failure = code
	t.res.Error = msg
}

// roots returns the servers of the top level.
func (t *tracer) roots(ctx context.Context) ([]NameServer, bool) {
	if t.o.Start == nil {
		h := t.o.Hints
		if h == nil {
			h = RootHints()
		}
		return h, true
	}
	c := &Client{Opts: t.o.Query}
	c.Opts.NoRD = false
	defer c.Close()
	t.res.Queries++
	r := c.Lookup(ctx, *t.o.Start, NewQuestion(".", dns.TypeNS, dns.ClassINET))
	if r.Msg == nil {
		t.fail(r.Failure, fmt.Sprintf("start server %s: %s", t.o.Start, r.Error))
		return nil, false
	}
	ns := nsFromReply(r.Msg, ".", r.Msg.Answer, "start")
	if len(ns) == 0 {
		t.fail(probe.FailDNSLookup, fmt.Sprintf("start server %s gave no NS records for \".\" (%s)", t.o.Start, RcodeString(r.Msg.Rcode)))
		return nil, false
	}
	return ns, true
}

// nsFromReply takes the NS set owned by zone from rrs and the addresses of
// its names from the reply's additional section. Glue outside bailiwick
// (not under the zone that sent the reply, given as bailiwick) is ignored.
func nsFromReply(m *dns.Msg, zone string, rrs []dns.RR, source string) []NameServer {
	var out []NameServer
	seen := map[string]bool{}
	for _, rr := range rrs {
		ns, ok := rr.(*dns.NS)
		if !ok || !strings.EqualFold(ns.Hdr.Name, zone) {
			continue
		}
		n := strings.ToLower(ns.Ns)
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, NameServer{Name: n, Source: source})
	}
	for i := range out {
		out[i].Addrs = glueFor(m, out[i].Name)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func glueFor(m *dns.Msg, name string) []netip.Addr {
	var out []netip.Addr
	for _, rr := range m.Extra {
		if !strings.EqualFold(rr.Header().Name, name) {
			continue
		}
		switch v := rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
				out = append(out, a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok && !a.Is4In6() {
				out = append(out, a)
			}
		}
	}
	return out
}

func (t *tracer) run(ctx context.Context, q Question) {
	roots, ok := t.roots(ctx)
	if !ok {
		return
	}
	t.cuts["."] = roots
	qname := q.Name
	var answer []dns.RR
	seenNames := map[string]bool{}
	for hop := 0; ; hop++ {
		key := strings.ToLower(qname)
		if seenNames[key] {
			t.finding(FindLoop, "error", "", "", "CNAME loop: %s is reached again", qname)
			t.fail(FindLoop, "CNAME loop at "+qname)
			return
		}
		seenNames[key] = true
		if hop > 8 {
			t.finding(FindTooDeep, "error", "", "", "more than 8 CNAMEs")
			t.fail(FindTooDeep, "CNAME chain longer than 8")
			return
		}
		seg, next, ok := t.segment(ctx, qname, q.qtype, q.qclass, roots, &answer)
		t.res.segments = append(t.res.segments, seg)
		if !ok {
			return
		}
		if next == "" {
			break
		}
		if t.spend() {
			t.finding(FindTooDeep, "error", "", "", "more than %d referrals, CNAMEs and name-server lookups", t.o.MaxReferrals)
			t.fail(FindTooDeep, "too many referrals")
			return
		}
		qname = next
	}
	t.res.Answer = records(answer, false)
	last := t.res.segments[len(t.res.segments)-1].final
	t.res.final = last
	t.res.Rcode = RcodeString(last.Rcode)
	switch {
	case last.Rcode == dns.RcodeNameError:
		t.res.Status = "nxdomain"
		t.res.Failure = probe.FailDNSNXDomain
		t.res.Error = qname + ": NXDOMAIN"
	case !hasData(answer, chainEndName(answer, q.Name), q.qtype):
		t.res.Status = "nodata"
		t.res.Failure = probe.FailDNSNoData
		t.res.Error = fmt.Sprintf("%s: no %s records (NODATA)", qname, q.Type)
	default:
		t.res.Status = "answer"
		t.res.OK = true
	}
}

func chainEndName(rrs []dns.RR, qname string) string {
	end, _ := chainEnd(rrs, qname)
	return end
}

func (t *tracer) spend() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.budget--
	return t.budget < 0
}

func hasData(rrs []dns.RR, name string, qtype uint16) bool {
	for _, rr := range rrs {
		h := rr.Header()
		if strings.EqualFold(h.Name, name) && (h.Rrtype == qtype || qtype == dns.TypeANY) {
			return true
		}
	}
	return false
}

// segment walks from the root to the zone that answers qname. It appends
// the answer records to *answer and returns the name to go on with when a
// CNAME leads out of the zone ("" when done).
func (t *tracer) segment(ctx context.Context, qname string, qtype, qclass uint16, roots []NameServer, answer *[]dns.RR) (segment, string, bool) {
	seg := segment{qname: qname}
	zone := "."
	servers := roots
	parent := -1
	var parentNS []NameServer
	depth := 0
	minLabels := 0 // with qmin: labels of the name asked last
	visited := map[string]bool{".": true}
	askedZone := map[string]bool{}
	for {
		if t.stopped(ctx, zone) {
			return seg, "", false
		}
		askName, askType := qname, qtype
		if t.o.QMin {
			askName, askType, minLabels = minimise(qname, qtype, zone, minLabels)
		}
		lv := t.level(ctx, zone, servers, parentNS, askName, askType, qclass, !askedZone[zone])
		askedZone[zone] = true
		lv.parent = parent
		idx := len(t.res.Levels)
		t.res.Levels = append(t.res.Levels, lv)
		seg.levels = append(seg.levels, idx)
		if lv.chosen == nil && t.stopped(ctx, zone) {
			return seg, "", false
		}
		if lv.Outcome == "loop" {
			t.fail(FindLoop, fmt.Sprintf("referral loop: the servers of %s refer %s back to %s", zone, askName, lv.Referral))
			return seg, "", false
		}
		if len(lv.Servers) == 0 {
			msg := t.noAddress(zone, servers)
			t.finding(FindNoServer, "error", zone, "", "%s", msg)
			t.fail(probe.FailNoReply, msg)
			return seg, "", false
		}
		if lv.chosen == nil {
			t.finding(FindNoServer, "error", zone, "", "no server of %s gave a usable reply", zone)
			t.fail(probe.FailNoReply, fmt.Sprintf("no server of %s gave a usable reply for %s %s", zone, askName, TypeString(askType)))
			return seg, "", false
		}
		m := lv.chosen
		minimised := !strings.EqualFold(askName, qname) || askType != qtype
		switch lv.Outcome {
		case "referral":
			child := lv.Referral
			if visited[strings.ToLower(child)] {
				t.finding(FindLoop, "error", zone, "", "referral back to %s", child)
				t.fail(FindLoop, "referral loop at "+child)
				return seg, "", false
			}
			visited[strings.ToLower(child)] = true
			depth++
			if depth >= t.o.MaxDepth {
				t.finding(FindTooDeep, "error", zone, "", "more than %d zone cuts", t.o.MaxDepth)
				t.fail(FindTooDeep, fmt.Sprintf("delegation deeper than %d zone cuts", t.o.MaxDepth))
				return seg, "", false
			}
			if t.spend() {
				t.finding(FindTooDeep, "error", zone, "", "more than %d referrals, CNAMEs and name-server lookups", t.o.MaxReferrals)
				t.fail(FindTooDeep, "too many referrals")
				return seg, "", false
			}
			ns := nsFromReply(m, child, m.Ns, "glue")
			for i := range ns {
				if !dns.IsSubDomain(zone, ns[i].Name) {
					ns[i].Addrs = nil // out-of-bailiwick glue is not trusted
				}
			}
			parentNS = ns
			servers = t.addresses(ctx, child, ns)
			t.mu.Lock()
			t.cuts[strings.ToLower(child)] = servers
			t.mu.Unlock()
			zone = child
			parent = idx
			minLabels = dns.CountLabel(child)
			continue
		case "nodata", "answer", "cname":
			if minimised && lv.Outcome != "cname" {
				// No cut at this name: one label more, same servers.
				parentNS = nil
				continue
			}
			if minimised {
				// A CNAME at a name above qname: a DNAME's sibling or a
				// broken zone. Ask the full name now.
				minLabels = dns.CountLabel(qname)
				parentNS = nil
				continue
			}
		case "nxdomain":
			// RFC 8020: nothing exists below an NXDOMAIN name.
		}
		seg.final = m
		seg.zone = zone
		if m.Rcode == dns.RcodeNameError {
			*answer = append(*answer, chainRecords(m, qname)...)
			return seg, "", true
		}
		recs := chainRecords(m, qname)
		*answer = append(*answer, recs...)
		end, dname := chainEnd(recs, qname)
		for _, d := range dname {
			t.finding(FindDNAME, "info", zone, "", "DNAME %s followed", d)
		}
		if strings.EqualFold(end, qname) || hasData(recs, end, qtype) || qtype == dns.TypeCNAME {
			return seg, "", true
		}
		t.finding(FindCNAME, "info", zone, "", "CNAME %s -> %s leads out of what %s answers: followed from the root", qname, end, zone)
		return seg, end, true
	}
}

// stopped ends the trace when its context is done: the overall deadline or
// an interrupt.
func (t *tracer) stopped(ctx context.Context, zone string) bool {
	err := ctx.Err()
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.DeadlineExceeded):
		t.fail(probe.FailTimeout, "the trace did not finish within its deadline (at "+zone+")")
	default:
		t.fail(probe.FailCanceled, "interrupted")
	}
	return true
}

// minimise picks the name and type to ask the servers of zone (RFC 9156):
// one label more than the zone (or than the name asked last, when it proved
// to be no cut), type A; the full question once the name is reached. After
// four single-label steps the rest goes in larger steps (at most 10 in all).
func minimise(qname string, qtype uint16, zone string, last int) (string, uint16, int) {
	total := dns.CountLabel(qname)
	n := max(dns.CountLabel(zone), last) + 1
	zl := dns.CountLabel(zone)
	if n-zl > 4 {
		remaining := total - zl - 4
		step := max(1, (remaining+5)/6)
		n = last + step
	}
	if n >= total {
		return qname, qtype, total
	}
	idx := dns.Split(qname)
	return qname[idx[total-n]:], dns.TypeA, n
}

// chainRecords is the part of the answer that leads from qname: its
// CNAMEs and DNAMEs and the records at the end, with their signatures.
func chainRecords(m *dns.Msg, qname string) []dns.RR {
	var out []dns.RR
	names := map[string]bool{strings.ToLower(qname): true}
	for i := 0; i < 10; i++ {
		grew := false
		for _, rr := range m.Answer {
			h := rr.Header()
			if h.Rrtype == dns.TypeRRSIG {
				continue
			}
			owner := strings.ToLower(h.Name)
			include := names[owner]
			if _, ok := rr.(*dns.DNAME); ok {
				for n := range names {
					if dns.IsSubDomain(owner, n) && owner != n {
						include = true
					}
				}
			}
			if !include || containsRR(out, rr) {
				continue
			}
			out = append(out, rr)
			grew = true
			if c, ok := rr.(*dns.CNAME); ok {
				names[strings.ToLower(c.Target)] = true
			}
		}
		if !grew {
			break
		}
	}
	type ot struct {
		owner string
		t     uint16
	}
	have := map[ot]bool{}
	for _, rr := range out {
		have[ot{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}] = true
	}
	for _, rr := range m.Answer {
		if sig, ok := rr.(*dns.RRSIG); ok && have[ot{strings.ToLower(sig.Hdr.Name), sig.TypeCovered}] {
			out = append(out, rr)
		}
	}
	return out
}

func containsRR(rrs []dns.RR, rr dns.RR) bool {
	for _, x := range rrs {
		if dns.IsDuplicate(x, rr) {
			return true
		}
	}
	return false
}

// chainEnd follows the CNAMEs from qname within recs and returns the last
// name, with the DNAMEs seen ("OWNER -> TARGET").
func chainEnd(recs []dns.RR, qname string) (string, []string) {
	cur := qname
	var dnames []string
	for _, rr := range recs {
		if d, ok := rr.(*dns.DNAME); ok {
			dnames = append(dnames, d.Hdr.Name+" -> "+d.Target)
		}
	}
	for i := 0; i < 10; i++ {
		moved := false
		for _, rr := range recs {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, cur) {
				cur = c.Target
				moved = true
				break
			}
		}
		if !moved {
			break
		}
	}
	return cur, dnames
}

// addresses fills in the addresses of name servers that came without glue,
// looking them up from the root along the way; an NS name with no address
// is a finding.
func (t *tracer) addresses(ctx context.Context, zone string, ns []NameServer) []NameServer {
	out := make([]NameServer, len(ns))
	copy(out, ns)
	var wg sync.WaitGroup
	for i := range out {
		// Glue of the other family only (AAAA with NoIPv4): the
		// addresses of the family asked are looked up.
		if len(t.usable(out[i].Addrs)) > 0 {
			continue
		}
		wg.Add(1)
		go func(n *NameServer) {
			defer wg.Done()
			addrs, why := t.lookupAddrs(ctx, n.Name, 0)
			if len(addrs) == 0 {
				t.finding(FindNSUnresolvable, "warning", zone, n.Name, "NS %s of %s does not resolve: %s", n.Name, zone, why)
				if len(n.Addrs) > 0 {
					return // glue of the other family: kept, to be named
				}
			}
			n.Addrs, n.Source = addrs, "resolved"
		}(&out[i])
	}
	wg.Wait()
	return out
}

// lookupAddrs resolves a name server's name to addresses (A and AAAA)
// iteratively, one server at a time, from the closest zone cut seen so far.
func (t *tracer) lookupAddrs(ctx context.Context, name string, depth int) ([]netip.Addr, string) {
	key := strings.ToLower(name)
	t.mu.Lock()
	if a, ok := t.addrs[key]; ok {
		t.mu.Unlock()
		return a, "no address"
	}
	if t.lookups[key] || depth > 3 {
		t.mu.Unlock()
		return nil, "the lookup loops through name servers without glue"
	}
	t.lookups[key] = true
	t.mu.Unlock()
	var all []netip.Addr
	why := ""
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if (qt == dns.TypeA && t.o.NoIPv4) || (qt == dns.TypeAAAA && t.o.NoIPv6) {
			continue
		}
		a, w := t.simpleResolve(ctx, name, qt, depth)
		all = append(all, a...)
		if why == "" || len(a) == 0 && w != "" {
			why = w
		}
	}
	t.mu.Lock()
	t.addrs[key] = all
	delete(t.lookups, key)
	t.mu.Unlock()
	return all, why
}

func (t *tracer) closestCut(name string) (string, []NameServer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	best, bestNS := ".", t.cuts["."]
	for z, ns := range t.cuts {
		if dns.IsSubDomain(z, name) && dns.CountLabel(z) > dns.CountLabel(best) {
			best, bestNS = z, ns
		}
	}
	return best, bestNS
}

// simpleResolve is a plain iterative lookup for name-server addresses:
// the first server that gives a usable reply is followed.
func (t *tracer) simpleResolve(ctx context.Context, name string, qtype uint16, depth int) ([]netip.Addr, string) {
	qname := name
	zone, servers := t.closestCut(qname)
	for hop := 0; hop < 2*t.o.MaxDepth; hop++ {
		if t.spend() {
			return nil, "too many referrals"
		}
		var m *dns.Msg
		for _, ns := range servers {
			addrs := ns.Addrs
			if len(t.usable(addrs)) == 0 {
				addrs, _ = t.lookupAddrs(ctx, ns.Name, depth+1)
			}
			for _, a := range t.usable(addrs) {
				r := t.ask(ctx, a, qname, qtype, dns.ClassINET)
				if r.Msg != nil && (r.Msg.Rcode == dns.RcodeSuccess || r.Msg.Rcode == dns.RcodeNameError) {
					m = r.Msg
					break
				}
			}
			if m != nil {
				break
			}
		}
		if m == nil {
			return nil, "no server of " + zone + " answered"
		}
		if m.Rcode == dns.RcodeNameError {
			return nil, "NXDOMAIN"
		}
		recs := chainRecords(m, qname)
		end, _ := chainEnd(recs, qname)
		var out []netip.Addr
		for _, rr := range recs {
			if !strings.EqualFold(rr.Header().Name, end) {
				continue
			}
			switch v := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
					out = append(out, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
					out = append(out, a)
				}
			}
		}
		if len(out) > 0 {
			return out, ""
		}
		if !strings.EqualFold(end, qname) {
			qname = end
			zone, servers = t.closestCut(qname)
			continue
		}
		child, ok := referralChild(m, zone, qname)
		if !ok || m.Authoritative {
			return nil, "no address records"
		}
		servers = nsFromReply(m, child, m.Ns, "glue")
		zone = child
	}
	return nil, "too deep"
}

// referralChild finds the zone a reply delegates to: an NS set in the
// authority section owned by a name below zone and at or above qname.
func referralChild(m *dns.Msg, zone, qname string) (string, bool) {
	if len(m.Answer) > 0 {
		return "", false
	}
	for _, rr := range m.Ns {
		if rr.Header().Rrtype != dns.TypeNS {
			continue
		}
		owner := rr.Header().Name
		if dns.IsSubDomain(owner, qname) && !strings.EqualFold(owner, zone) && dns.IsSubDomain(zone, owner) {
			return owner, true
		}
	}
	return "", false
}

// anyReferral is the NS owner of a non-authoritative reply without answer,
// wherever it points.
func anyReferral(m *dns.Msg) string {
	if len(m.Answer) > 0 {
		return ""
	}
	for _, rr := range m.Ns {
		if rr.Header().Rrtype == dns.TypeNS {
			return rr.Header().Name
		}
	}
	return ""
}

// noAddress says why no server of zone could be asked: none has an
// address, or (with NoIPv4 or NoIPv6) none has one of the family asked,
// naming the addresses left out.
func (t *tracer) noAddress(zone string, servers []NameServer) string {
	if !t.o.NoIPv4 && !t.o.NoIPv6 {
		return fmt.Sprintf("no name server of %s has an address", zone)
	}
	fam, flag := "IPv4", "-4"
	if t.o.NoIPv4 {
		fam, flag = "IPv6", "-6"
	}
	var left []string
	for _, ns := range servers {
		for _, a := range ns.Addrs {
			left = append(left, ns.Name+" "+a.String())
		}
	}
	msg := fmt.Sprintf("no name server of %s has an %s address, and only %s is asked (%s)", zone, fam, fam, flag)
	if len(left) > 0 {
		msg += "; left out: " + strings.Join(left, ", ")
	}
	return msg
}

func (t *tracer) usable(addrs []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range addrs {
		if (a.Is4() && t.o.NoIPv4) || (!a.Is4() && t.o.NoIPv6) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// ask sends one non-recursive query through the client's exchange (ID and
// question checked, deadline per try, TCP on truncation), bounded in
// parallelism.
func (t *tracer) ask(ctx context.Context, a netip.Addr, name string, qtype, qclass uint16) *Result {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		r := &Result{}
		r.fail(ctx.Err())
		return r
	}
	defer func() { <-t.sem }()
	t.mu.Lock()
	t.res.Queries++
	t.mu.Unlock()
	s := Server{Transport: UDP, Host: a.String(), Port: t.o.Port}
	return t.c.Lookup(ctx, s, NewQuestion(name, qtype, qclass))
}

const (
	jobQuestion = iota
	jobSOA
	jobNS
	jobDNSKEY
	jobAddr
)

type job struct {
	done chan struct{}
	kind int
	// addrs (on the NS job) are the glue checks of the server: address
	// sets of in-zone name servers, filled from the NS reply's additional
	// section or asked for.
	addrs  []*job
	rrs    []dns.RR // a glue check's address records, from the zone
	known  bool     // rrs are the zone's (an authoritative reply gave them)
	srv    *TraceServer
	addr   netip.Addr
	name   string
	qtype  uint16
	result *Result
}

// level asks every address of every server of zone, in parallel: the
// question, the zone's SOA and NS sets, the addresses of in-zone name
// servers (to compare with glue) and, when validating, the DNSKEY set.
func (t *tracer) level(ctx context.Context, zone string, servers []NameServer, parentNS []NameServer, qname string, qtype, qclass uint16, extras bool) *TraceLevel {
	start := time.Now()
	lv := &TraceLevel{Type: "trace_level", Zone: zone, QName: qname, QType: TypeString(qtype), keys: map[string]*dns.Msg{}, ns: servers}
	var jobs []*job
	count := 0
	for _, ns := range servers {
		for _, a := range t.usable(ns.Addrs) {
			if count >= t.o.MaxServers {
				break
			}
			count++
			ts := &TraceServer{Type: "trace_server", Name: ns.Name, Addr: a.String(), Source: ns.Source}
			lv.Servers = append(lv.Servers, ts)
			jobs = append(jobs, &job{kind: jobQuestion, srv: ts, addr: a, name: qname, qtype: qtype})
			if !extras {
				continue
			}
			jobs = append(jobs, &job{kind: jobSOA, srv: ts, addr: a, name: zone, qtype: dns.TypeSOA})
			ns := &job{kind: jobNS, srv: ts, addr: a, name: zone, qtype: dns.TypeNS}
			// In-zone name servers with glue: the zone's own address
			// records, for the families the glue gives, to compare. The
			// NS reply's additional section usually has them (an
			// authoritative server adds the addresses of its in-zone name
			// servers); those it lacks are asked for once it is in.
			for _, p := range parentNS {
				if p.Source != "glue" || len(p.Addrs) == 0 || !dns.IsSubDomain(zone, p.Name) {
					continue
				}
				v4, v6 := false, false
				for _, g := range p.Addrs {
					v4, v6 = v4 || g.Is4(), v6 || !g.Is4()
				}
				if v4 {
					ns.addrs = append(ns.addrs, &job{kind: jobAddr, srv: ts, addr: a, name: p.Name, qtype: dns.TypeA})
				}
				if v6 {
					ns.addrs = append(ns.addrs, &job{kind: jobAddr, srv: ts, addr: a, name: p.Name, qtype: dns.TypeAAAA})
				}
			}
			jobs = append(jobs, ns)
			if t.o.Validate {
				jobs = append(jobs, &job{kind: jobDNSKEY, srv: ts, addr: a, name: zone, qtype: dns.TypeDNSKEY})
			}
		}
	}
	// The questions go out first: the trace waits on them, the rest only
	// has to be in by the end.
	sort.SliceStable(jobs, func(a, b int) bool { return jobs[a].kind == jobQuestion && jobs[b].kind != jobQuestion })
	for _, j := range jobs {
		j.done = make(chan struct{})
		t.bg.Add(1)
		go func(j *job) {
			defer t.bg.Done()
			defer close(j.done)
			j.result = t.ask(ctx, j.addr, j.name, j.qtype, qclass)
			if len(j.addrs) > 0 {
				t.glueCheck(ctx, j, qclass)
			}
		}(j)
	}
	lv.jobs, lv.parentNS, lv.qtype = jobs, parentNS, qtype
	t.decide(lv)
	lv.ElapsedMS = probe.Millis(time.Since(start))
	return lv
}

// glueCheck fills the glue checks of an NS job: from the additional
// section of the server's authoritative NS reply where it carries the
// address set of a name right under the apex, else by asking the server.
func (t *tracer) glueCheck(ctx context.Context, ns *job, qclass uint16) {
	var extra []dns.RR
	if r := ns.result; r != nil && r.Msg != nil && r.Msg.Authoritative && r.Msg.Rcode == dns.RcodeSuccess && !r.Msg.Truncated {
		extra = r.Msg.Extra
	}
	for _, j := range ns.addrs {
		// Only for a name right under the apex (ns1.zone.): one deeper
		// may lie below a cut in the zone, where the additional section
		// holds the server's glue for it, not the zone's own data.
		if dns.CountLabel(j.name) <= dns.CountLabel(ns.name)+1 {
			for _, rr := range extra {
				if h := rr.Header(); h.Rrtype == j.qtype && h.Class == qclass && sameName(h.Name, j.name) {
					j.rrs = append(j.rrs, rr)
				}
			}
		}
		if len(j.rrs) > 0 {
			j.known = true
			continue
		}
		j.result = t.ask(ctx, j.addr, j.name, j.qtype, qclass)
		if r := j.result; r.Msg != nil && r.Msg.Authoritative {
			j.rrs, j.known = r.Msg.Answer, true
		}
	}
}

// decide waits for the servers' replies to the question in server order,
// until one is usable: the trace goes on from it while the other queries of
// the level (the rest of the servers, SOA, NS, glue checks, DNSKEY) finish
// in the background. The choice is the one finishLevel makes with every
// reply in.
func (t *tracer) decide(lv *TraceLevel) {
	loops := 0
	for _, j := range lv.jobs {
		if j.kind != jobQuestion {
			continue
		}
		<-j.done
		scratch := *j.srv
		t.classifyInto(lv.Zone, lv.QName, lv.qtype, &scratch, j.result, false)
		switch scratch.Outcome {
		case "referral", "answer", "cname", "nxdomain", "nodata":
			lv.Outcome, lv.Referral, lv.Chosen, lv.chosen = scratch.Outcome, scratch.Referral, scratch.label(), j.result.Msg
			return
		case "loop":
			loops++
			lv.Referral = scratch.Referral
		}
	}
	lv.Outcome = "failed"
	if loops > 0 {
		lv.Outcome = "loop"
	}
}

// finishLevel judges every reply of a level once all are in: each
// server's outcome, and the findings that compare servers.
func (t *tracer) finishLevel(lv *TraceLevel) {
	zone, qname, qtype, jobs, parentNS := lv.Zone, lv.QName, lv.qtype, lv.jobs, lv.parentNS
	serials := map[uint32][]string{}
	childNS := map[string][]string{}
	authAddrs := map[string]map[string]bool{} // NS name -> addresses servers gave
	for _, j := range jobs {
		r := j.result
		s := j.srv
		switch j.kind {
		case jobQuestion:
			t.classify(zone, qname, qtype, s, r)
		case jobSOA:
			if r.Msg != nil && r.Msg.Authoritative {
				for _, rr := range r.Msg.Answer {
					if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, zone) {
						v := soa.Serial
						s.Serial = &v
						serials[v] = append(serials[v], s.label())
					}
				}
			}
		case jobNS:
			if r.Msg != nil && r.Msg.Authoritative {
				for _, n := range nsFromReply(r.Msg, zone, r.Msg.Answer, "") {
					s.ZoneNS = append(s.ZoneNS, n.Name)
				}
				childNS[strings.Join(s.ZoneNS, " ")] = append(childNS[strings.Join(s.ZoneNS, " ")], s.label())
			}
		case jobDNSKEY:
			if r.Msg != nil {
				lv.keys[s.Addr] = r.Msg
			}
		}
		for _, a := range j.addrs {
			if !a.known {
				continue
			}
			k := strings.ToLower(a.name)
			if authAddrs[k] == nil {
				authAddrs[k] = map[string]bool{}
			}
			for _, rr := range a.rrs {
				switch v := rr.(type) {
				case *dns.A:
					authAddrs[k][v.A.String()] = true
				case *dns.AAAA:
					authAddrs[k][v.AAAA.String()] = true
				}
			}
		}
	}
	t.choose(lv)
	lv.jobs = nil
	if len(serials) > 1 {
		var parts []string
		for v, who := range serials {
			parts = append(parts, fmt.Sprintf("%d (%s)", v, strings.Join(who, ", ")))
		}
		sort.Strings(parts)
		t.finding(FindSerialMismatch, "warning", zone, "", "SOA serials of %s differ: %s", zone, strings.Join(parts, "; "))
	}
	if parentNS != nil {
		var pn []string
		for _, p := range parentNS {
			pn = append(pn, p.Name)
		}
		pset := strings.Join(pn, " ")
		var sets []string
		for set := range childNS {
			sets = append(sets, set)
		}
		sort.Strings(sets)
		for _, set := range sets {
			if set != pset {
				t.finding(FindNSMismatch, "warning", zone, "", "NS sets differ: the parent lists [%s], %s list(s) [%s]", pset, strings.Join(childNS[set], ", "), set)
			}
		}
		for _, p := range parentNS {
			got := authAddrs[p.Name]
			if p.Source != "glue" || len(p.Addrs) == 0 || got == nil {
				continue
			}
			var glue, auth []string
			fam := map[bool]bool{}
			for _, a := range p.Addrs {
				glue = append(glue, a.String())
				fam[a.Is4()] = true
			}
			for a := range got {
				if x, err := netip.ParseAddr(a); err == nil && fam[x.Unmap().Is4()] {
					auth = append(auth, a)
				}
			}
			sort.Strings(glue)
			sort.Strings(auth)
			if strings.Join(glue, " ") != strings.Join(auth, " ") {
				t.finding(FindGlueMismatch, "warning", zone, p.Name, "glue for %s is [%s], the zone says [%s]", p.Name, strings.Join(glue, " "), strings.Join(auth, " "))
			}
		}
	}
}

func (s *TraceServer) label() string { return s.Name + " " + s.Addr }

// classify judges one server's reply to the question.
func (t *tracer) classify(zone, qname string, qtype uint16, s *TraceServer, r *Result) {
	t.classifyInto(zone, qname, qtype, s, r, true)
}

func (t *tracer) classifyInto(zone, qname string, qtype uint16, s *TraceServer, r *Result, record bool) {
	finding := t.finding
	if !record {
		finding = func(string, string, string, string, string, ...any) {}
	}
	s.reply = r
	s.Tries = r.Tries
	s.RTTMS = r.RTTMS
	m := r.Msg
	if m == nil {
		if r.Failure == probe.FailTimeout {
			s.Outcome = "timeout"
			s.Error = r.Error
			finding(FindTimeout, "warning", zone, s.label(), "%s (%s) did not answer: %s", s.Name, s.Addr, r.Error)
		} else {
			s.Outcome = "error"
			s.Error = r.Error
			// A family this host has no route for (IPv6 often) is a
			// fact about here, not about the zone.
			sev := "warning"
			if r.Failure == probe.FailNetUnreachable {
				sev = "info"
			}
			finding(FindUnreachable, sev, zone, s.label(), "%s (%s): %s", s.Name, s.Addr, r.Error)
		}
		return
	}
	s.Rcode = RcodeString(m.Rcode)
	s.AA = m.Authoritative
	for _, rr := range m.Answer {
		if len(s.Answer) >= 32 {
			break
		}
		s.Answer = append(s.Answer, rrText(rr))
	}
	lame := func(why string) {
		s.Outcome = "lame"
		finding(FindLame, "warning", zone, s.label(), "%s (%s) is lame for %s: %s", s.Name, s.Addr, zone, why)
	}
	switch {
	case m.Rcode == dns.RcodeRefused:
		lame("REFUSED")
	case m.Rcode == dns.RcodeServerFailure:
		lame("SERVFAIL")
	case m.Rcode == dns.RcodeNameError:
		if m.Authoritative {
			s.Outcome = "nxdomain"
		} else {
			lame("NXDOMAIN without the AA bit")
		}
	case m.Rcode != dns.RcodeSuccess:
		lame(RcodeString(m.Rcode))
	case len(chainRecords(m, qname)) > 0:
		if !m.Authoritative {
			lame("an answer without the AA bit")
			return
		}
		s.Outcome = "answer"
		if end, _ := chainEnd(chainRecords(m, qname), qname); !strings.EqualFold(end, qname) {
			s.Outcome = "cname"
		}
	case m.Authoritative:
		s.Outcome = "nodata"
	default:
		if child, ok := referralChild(m, zone, qname); ok {
			s.Outcome = "referral"
			s.Referral = child
			for _, n := range nsFromReply(m, child, m.Ns, "") {
				if len(s.NS) >= 32 {
					break
				}
				s.NS = append(s.NS, n.Name)
			}
			return
		}
		if to := anyReferral(m); to != "" {
			if dns.IsSubDomain(to, zone) {
				s.Outcome = "loop"
				s.Referral = to
				finding(FindLoop, "error", zone, s.label(), "%s (%s) refers %s back to %s", s.Name, s.Addr, qname, to)
				return
			}
			lame(fmt.Sprintf("a referral to %s, which is not below %s", to, zone))
			return
		}
		lame("not authoritative and no referral")
	}
}

func rrText(rr dns.RR) string {
	h := rr.Header()
	return fmt.Sprintf("%s %d %s %s", h.Name, h.Ttl, TypeString(h.Rrtype), RData(rr))
}

// choose picks the reply to follow: the first usable one in server order
// (deterministic, not the fastest), and notes servers that disagree.
func (t *tracer) choose(lv *TraceLevel) {
	var first *TraceServer
	outcomes := map[string][]string{}
	loops := 0
	for _, s := range lv.Servers {
		switch s.Outcome {
		case "referral", "answer", "cname", "nxdomain", "nodata":
			k := s.Outcome + " " + strings.ToLower(s.Referral)
			outcomes[k] = append(outcomes[k], s.label())
			if first == nil {
				first = s
			}
		case "loop":
			loops++
		}
	}
	if first == nil {
		if loops > 0 {
			lv.Outcome = "loop"
		} else {
			lv.Outcome = "failed"
		}
		return
	}
	if len(outcomes) > 1 {
		var parts []string
		for k, who := range outcomes {
			parts = append(parts, fmt.Sprintf("%s (%s)", strings.TrimSpace(k), strings.Join(who, ", ")))
		}
		sort.Strings(parts)
		t.finding(FindDisagree, "warning", lv.Zone, "", "the servers of %s disagree: %s", lv.Zone, strings.Join(parts, "; "))
	}
	lv.Outcome = first.Outcome
	lv.Referral = first.Referral
	lv.Chosen = first.label()
	lv.chosen = first.reply.Msg
}
