package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/probe/ping"
	"github.com/nettool/nettool/probe/trace"
	"github.com/nettool/nettool/resolve"
)

const (
	traceResolveTimeout = 5 * time.Second
	traceNameTimeout    = 2 * time.Second
	traceMaxTargets     = 64
)

func init() {
	registerCommand(250, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:      "trace",
			Usage:     "the path to a host hop by hop (traceroute, mtr --report and tracepath in one)",
			ArgsUsage: "HOST... [@SERVER]",
			Description: "Sends probes with growing TTLs to each HOST (ICMP echo by default, --udp or --tcp) and shows\n" +
				"every hop that answers: its address, its name (PTR, asked of @SERVER or the servers of\n" +
				"--resolv-conf; -n skips names), each probe's RTT and the marks of an unreachable (!H !N !P !X).\n" +
				"Every TTL is in flight at once, so a trace takes about one round trip, plus a short wait for a\n" +
				"silent hop. -c N runs N rounds and prints an mtr-style report (Loss%, Snt, Last, Avg, Best, Wrst,\n" +
				"StDev, Jttr), redrawn live on a terminal. Probes of one run keep one flow (paris-style), so an\n" +
				"ECMP router sends them all one way; --flows N probes N flows and shows every address per hop\n" +
				"with its share of the replies. --pmtu finds the path MTU as tracepath does. Exit 0 when every\n" +
				"destination answered, 1 when one did not within --max-ttl, 2 for bad input, 3 when no socket\n" +
				"can be opened, 130 on Ctrl-C (the table is printed first).",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "icmp", Aliases: []string{"I"}, Usage: "ICMP echo probes (the default)"},
				&cli.BoolFlag{Name: "udp", Aliases: []string{"U"}, Usage: "UDP probes to --port (no privilege needed)"},
				&cli.BoolFlag{Name: "tcp", Aliases: []string{"T"}, Usage: "TCP connection attempts to --port (no privilege needed)"},
				&cli.IntFlag{Name: "port", Aliases: []string{"p"}, Usage: "destination port for --udp (33434) and --tcp (80)"},
				&cli.IntFlag{Name: "first-ttl", Aliases: []string{"f"}, Value: 1, Usage: "first TTL probed"},
				&cli.IntFlag{Name: "max-ttl", Aliases: []string{"m"}, Value: trace.DefaultMaxTTL, Usage: "last TTL probed"},
				&cli.IntFlag{Name: "queries", Aliases: []string{"q"}, Value: trace.DefaultQueries, Usage: "probes per hop and round (1 with -c unless given)"},
				&cli.StringFlag{Name: "wait", Aliases: []string{"w"}, Value: "3", Usage: "seconds a probe waits for its answer at most; a silent hop is given up sooner once later hops answered"},
				&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Value: 1, Usage: "rounds: more than 1 prints an mtr-style report"},
				&cli.StringFlag{Name: "interval", Aliases: []string{"i"}, Value: "1", Usage: "seconds between the starts of two rounds"},
				&cli.IntFlag{Name: "sim-queries", Aliases: []string{"N"}, Value: trace.DefaultInFlight, Usage: "probes in flight at once"},
				&cli.IntFlag{Name: "flows", Value: 1, Usage: "flows probed per hop (ECMP): every address seen is shown with its share of replies"},
				&cli.BoolFlag{Name: "pmtu", Usage: "find the path MTU (don't fragment; tracepath-style) and show the hop where it drops"},
				&cli.IntFlag{Name: "size", Usage: "packet size in bytes, IP header included (default 60 for IPv4, 80 for IPv6)"},
				&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Usage: "source `ADDR` of the probes"},
				&cli.BoolFlag{Name: "ipv4", Aliases: []string{"4"}, Usage: "IPv4 only"},
				&cli.BoolFlag{Name: "ipv6", Aliases: []string{"6"}, Usage: "IPv6 only"},
				&cli.BoolFlag{Name: "numeric", Aliases: []string{"n"}, Usage: "no reverse names for the hops"},
				&cli.StringFlag{Name: "resolv-conf", Value: resolve.DefaultResolvConf, Usage: "resolver configuration `FILE` for the servers asked for names, when no @SERVER is given"},
				&cli.StringFlag{Name: "socket", Value: "auto", Usage: "ICMP socket: auto (unprivileged first, then raw), dgram or raw"},
			},
			Action: func(c *cli.Context) error { return traceAction(e, c) },
		}
	})
}

// traceRequest is what the flags and arguments ask for.
type traceRequest struct {
	opts     trace.Options
	fam      ping.Family
	hosts    []string
	servers  []resolve.Server
	numeric  bool
	report   bool // -c given: the mtr-style table
	confPath string
}

func traceParse(c *cli.Context) (*traceRequest, error) {
	r := &traceRequest{numeric: c.Bool("numeric"), confPath: c.String("resolv-conf")}
	o := &r.opts
	n := 0
	for _, m := range []string{"icmp", "udp", "tcp"} {
		if c.Bool(m) {
			n++
			o.Method = trace.Method(m)
		}
	}
	if n > 1 {
		return nil, probe.Usagef("--icmp, --udp and --tcp cannot be used together")
	}
	if c.IsSet("port") && o.Method == trace.ICMP || c.IsSet("port") && o.Method == "" {
		return nil, probe.Usagef("--port needs --udp or --tcp")
	}
	if c.IsSet("port") && (c.Int("port") < 1 || c.Int("port") > 65535) {
		return nil, probe.Usagef("bad port %d (want 1-65535)", c.Int("port"))
	}
	o.Port = c.Int("port")
	// 0 means "the default" to the trace package: here it is bad input.
	for _, f := range []struct{ flag, what string }{
		{"first-ttl", "bad first TTL"}, {"max-ttl", "bad max TTL"}, {"queries", "bad probes per hop"},
		{"count", "bad count"}, {"sim-queries", "bad probes in flight"}, {"flows", "bad flow count"},
	} {
		if c.Int(f.flag) < 1 {
			return nil, probe.Usagef("%s %d (want 1 or more)", f.what, c.Int(f.flag))
		}
	}
	o.FirstTTL, o.MaxTTL = c.Int("first-ttl"), c.Int("max-ttl")
	o.Rounds = c.Int("count")
	r.report = c.IsSet("count")
	o.Queries = c.Int("queries")
	if r.report && !c.IsSet("queries") {
		o.Queries = 1
	}
	var err error
	if o.Wait, err = pingSecondsFlag(c, "wait"); err != nil {
		return nil, err
	}
	if o.Wait == 0 {
		return nil, probe.Usagef("--wait: want more than 0")
	}
	if o.Interval, err = pingSecondsFlag(c, "interval"); err != nil {
		return nil, err
	}
	o.InFlight = c.Int("sim-queries")
	o.Flows = c.Int("flows")
	o.PMTU = c.Bool("pmtu")
	o.Size = c.Int("size")
	if c.IsSet("size") && o.Size <= 0 {
		return nil, probe.Usagef("bad --size %d", o.Size)
	}
	if o.Socket, err = ping.ParseSocketMode(c.String("socket")); err != nil {
		return nil, err
	}
	if s := c.String("source"); s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, probe.Usagef("bad --source %q: want an IP address", s)
		}
		o.Source = a.Unmap()
	}
	switch {
	case c.Bool("ipv4") && c.Bool("ipv6"):
		return nil, probe.Usagef("-4 and -6 cannot be used together")
	case c.Bool("ipv4"):
		r.fam = ping.FamilyV4
	case c.Bool("ipv6"):
		r.fam = ping.FamilyV6
	}
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "@") {
			s, err := resolve.ParseServer(a)
			if err != nil {
				return nil, err
			}
			r.servers = append(r.servers, s)
			continue
		}
		r.hosts = append(r.hosts, a)
	}
	if len(r.hosts) == 0 {
		return nil, probe.Usagef("no host to trace (nettool trace HOST)")
	}
	if len(r.hosts) > traceMaxTargets {
		return nil, probe.Usagef("too many hosts (%d, at most %d)", len(r.hosts), traceMaxTargets)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// traceResolver resolves host names when no @SERVER is given (nil: the
// system's resolver); tests point it at a server of their own.
var traceResolver *net.Resolver

// forwardResolver asks the first @SERVER for the targets' addresses.
func (r *traceRequest) forwardResolver() *net.Resolver {
	if len(r.servers) == 0 {
		return traceResolver
	}
	s := r.servers[0]
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		if s.Transport == resolve.TCP || s.Transport == resolve.TLS {
			network = "tcp"
		}
		return d.DialContext(ctx, network, s.HostPort())
	}}
}

type traceTarget struct {
	name string
	addr netip.Addr
	res  trace.Result
	err  error
}

func traceAction(e *appEnv, c *cli.Context) error {
	p, err := e.printerFor(c)
	if err != nil {
		return err
	}
	req, err := traceParse(c)
	if err != nil {
		return err
	}
	hosts, err := ping.ParseHosts(req.hosts, req.fam)
	if err != nil {
		return err
	}
	all, errs := ping.ResolveEach(e.ctx, req.forwardResolver(), hosts, req.fam, traceResolveTimeout)
	var targets []*traceTarget
	var unresolved []string
	for i, err := range errs {
		switch {
		case err == nil:
			targets = append(targets, &traceTarget{name: all[i].Name, addr: all[i].Addr})
		case e.ctx.Err() != nil:
			return errInterrupted
		default:
			unresolved = append(unresolved, hosts[i].Name)
			p.Warn("nettool: trace: %s", output.Escape(err.Error()))
		}
	}
	if len(targets) == 0 {
		p.Doc(traceRunJSON{Meta: probe.Meta{Type: "trace_run", Failure: probe.FailDNSLookup, Error: "no host could be resolved", Start: time.Now().UTC()},
			Unresolved: unresolved})
		return errFailed
	}
	names := newTraceNamer(e, p, req)
	view := &traceView{p: p, req: req, names: names, targets: targets,
		live: p.IsText() && req.report && output.IsTerminal(e.stdout) && e.getenv("TERM") != "dumb"}

	var wg sync.WaitGroup
	for i, t := range targets {
		o := req.opts
		o.OnProbe = func(pr trace.Probe) { view.probe(t, pr) }
		if view.live {
			o.OnRound = func(res trace.Result) { view.round(i, res) }
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.res, t.err = trace.Run(e.ctx, t.addr, o)
		}()
	}
	wg.Wait()
	for _, t := range targets {
		if t.err != nil {
			if ping.IsPermission(errors.Unwrap(t.err)) || probe.IsLocal(t.err) || probe.IsUsage(t.err) {
				return t.err
			}
			return probe.Localf("%v", t.err)
		}
	}
	interrupted := e.ctx.Err() != nil
	if !req.numeric {
		var addrs []netip.Addr
		for _, t := range targets {
			for _, h := range t.res.Hops {
				for _, a := range h.Addrs {
					addrs = append(addrs, a.Addr)
				}
			}
		}
		names.resolveAll(addrs, interrupted)
	}
	view.final(unresolved)
	if interrupted {
		return errInterrupted
	}
	if len(unresolved) > 0 {
		return errFailed
	}
	for _, t := range targets {
		if !t.res.Reached {
			return errFailed
		}
	}
	return nil
}

// traceNamer finds the hops' names (PTR) through the resolve package.
type traceNamer struct {
	e       *appEnv
	p       *output.Printer
	client  *resolve.Client
	servers []resolve.Server
	off     bool

	mu    sync.Mutex
	names map[netip.Addr]string
}

func newTraceNamer(e *appEnv, p *output.Printer, req *traceRequest) *traceNamer {
	n := &traceNamer{e: e, p: p, off: req.numeric, names: make(map[netip.Addr]string),
		client: &resolve.Client{Opts: resolve.Options{Timeout: traceNameTimeout}}, servers: req.servers}
	if n.off || len(n.servers) > 0 {
		return n
	}
	conf, err := resolveReadConf(e.ctx, req.confPath)
	if err != nil {
		p.Warn("nettool: trace: no names for the hops: %s", output.Escape(err.Error()))
		n.off = true
		return n
	}
	n.servers = conf.Servers
	return n
}

// resolveAll looks up the names of addrs, 16 at a time, each bounded by
// traceNameTimeout (skipped after Ctrl-C).
func (n *traceNamer) resolveAll(addrs []netip.Addr, interrupted bool) {
	if n.off || interrupted {
		return
	}
	seen := make(map[netip.Addr]bool)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, a := range addrs {
		if seen[a] {
			continue
		}
		seen[a] = true
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if name := n.lookup(a); name != "" {
				n.mu.Lock()
				n.names[a] = name
				n.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func (n *traceNamer) lookup(a netip.Addr) string {
	rname, err := resolve.ReverseName(a.String())
	if err != nil {
		return ""
	}
	q := resolve.NewQuestion(rname, dns.TypePTR, dns.ClassINET)
	for _, s := range n.servers {
		ctx, cancel := context.WithTimeout(n.e.ctx, traceNameTimeout)
		res := n.client.Lookup(ctx, s, q)
		cancel()
		if !res.OK && res.Rcode == "" {
			continue // no answer from this server: the next one
		}
		for _, rr := range res.Answer {
			if rr.Type == "PTR" {
				return strings.TrimSuffix(rr.Data, ".")
			}
		}
		return ""
	}
	return ""
}

func (n *traceNamer) name(a netip.Addr) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.names[a]
}

// traceView turns results into text or JSON.
type traceView struct {
	p       *output.Printer
	req     *traceRequest
	names   *traceNamer
	targets []*traceTarget
	live    bool

	mu       sync.Mutex
	snaps    map[int]trace.Result
	lastRows int
}

// JSON shapes: snake_case, *_ms, every object with "type".

type traceMPLSJSON struct {
	Type string `json:"type"` // mpls_label
	trace.MPLSLabel
}

type traceProbeJSON struct {
	Type      string          `json:"type"` // trace_probe
	Target    string          `json:"target,omitempty"`
	Addr      string          `json:"addr,omitempty"`
	TTL       int             `json:"ttl"`
	Round     int             `json:"round"`
	Query     int             `json:"query"`
	Flow      int             `json:"flow"`
	Lost      bool            `json:"lost"`
	From      string          `json:"from,omitempty"`
	RTTMS     *float64        `json:"rtt_ms"`
	Reached   bool            `json:"reached"`
	ICMPType  *int            `json:"icmp_type"`
	ICMPCode  *int            `json:"icmp_code"`
	Mark      string          `json:"mark,omitempty"`
	QuotedTTL *int            `json:"quoted_ttl"`
	IPID      *int            `json:"ip_id"`
	MTU       int             `json:"mtu,omitempty"`
	MPLS      []traceMPLSJSON `json:"mpls,omitempty"`
	Time      *time.Time      `json:"time,omitempty"`
}

type traceAddrJSON struct {
	Type    string  `json:"type"` // trace_addr
	Addr    string  `json:"addr"`
	Name    string  `json:"name,omitempty"`
	Replies int     `json:"replies"`
	Share   float64 `json:"share"`
}

type traceHopJSON struct {
	Type         string           `json:"type"` // trace_hop
	TTL          int              `json:"ttl"`
	Sent         int              `json:"sent"`
	Received     int              `json:"received"`
	LossPercent  *float64         `json:"loss_percent"`
	LastMS       *float64         `json:"last_ms"`
	AvgMS        *float64         `json:"avg_ms"`
	BestMS       *float64         `json:"best_ms"`
	WorstMS      *float64         `json:"worst_ms"`
	StdDevMS     *float64         `json:"stddev_ms"`
	JitterMS     *float64         `json:"jitter_ms"`
	JitterLastMS *float64         `json:"jitter_last_ms"`
	Addrs        []traceAddrJSON  `json:"addrs"`
	Marks        map[string]int   `json:"marks,omitempty"`
	Reached      bool             `json:"reached"`
	ICMPType     *int             `json:"icmp_type"`
	ICMPCode     *int             `json:"icmp_code"`
	QuotedTTL    *int             `json:"quoted_ttl"`
	IPID         *int             `json:"ip_id"`
	MTU          int              `json:"mtu,omitempty"`      // PMTU: the path MTU drops here
	MTUFrom      string           `json:"mtu_from,omitempty"` // who said the probe was too big
	MPLS         []traceMPLSJSON  `json:"mpls,omitempty"`
	Probes       []traceProbeJSON `json:"probes"`
}

type traceJSON struct {
	probe.Meta
	Addr        string         `json:"addr"`
	Method      string         `json:"method"`
	Port        int            `json:"port,omitempty"`
	Socket      string         `json:"socket"`
	Size        int            `json:"size"`
	FirstTTL    int            `json:"first_ttl"`
	MaxTTL      int            `json:"max_ttl"`
	Queries     int            `json:"queries"`
	Flows       int            `json:"flows"`
	Rounds      int            `json:"rounds"`
	Reached     bool           `json:"reached"`
	DestTTL     int            `json:"dest_ttl"`
	HopCount    int            `json:"hop_count"`
	PMTU        int            `json:"pmtu,omitempty"`
	Ignored     int            `json:"ignored"`
	Interrupted bool           `json:"interrupted"`
	Hops        []traceHopJSON `json:"hops"`
}

type traceRunJSON struct {
	probe.Meta
	TargetsTotal int         `json:"targets_total"`
	Reached      int         `json:"reached"`
	NotReached   int         `json:"not_reached"`
	Interrupted  bool        `json:"interrupted"`
	Traces       []traceJSON `json:"traces,omitempty"`
	Unresolved   []string    `json:"unresolved,omitempty"`
}

func intPtr(n int) *int {
	if n < 0 {
		return nil
	}
	return &n
}

func msPtr(d time.Duration) *float64 {
	f := probe.Millis(d)
	return &f
}

func traceMPLS(ls []trace.MPLSLabel) []traceMPLSJSON {
	var out []traceMPLSJSON
	for _, l := range ls {
		out = append(out, traceMPLSJSON{Type: "mpls_label", MPLSLabel: l})
	}
	return out
}

func traceProbeRecord(pr trace.Probe) traceProbeJSON {
	j := traceProbeJSON{Type: "trace_probe", TTL: pr.TTL, Round: pr.Round, Query: pr.Query, Flow: pr.Flow, Lost: pr.Lost}
	if pr.Lost {
		return j
	}
	j.From = pr.From.String()
	j.RTTMS = msPtr(pr.RTT)
	j.Reached = pr.Reached
	j.ICMPType, j.ICMPCode = intPtr(pr.ICMPType), intPtr(pr.ICMPCode)
	j.Mark = pr.Mark
	j.QuotedTTL, j.IPID = intPtr(pr.QuotedTTL), intPtr(pr.IPID)
	j.MTU = pr.MTU
	j.MPLS = traceMPLS(pr.MPLS)
	if !pr.Time.IsZero() {
		t := pr.Time.UTC()
		j.Time = &t
	}
	return j
}

func (v *traceView) probe(t *traceTarget, pr trace.Probe) {
	if v.p.Format() != output.JSONL {
		return
	}
	j := traceProbeRecord(pr)
	j.Target, j.Addr = t.name, t.addr.String()
	v.p.Stream(j)
}

func (v *traceView) hopRecord(h trace.Hop) traceHopJSON {
	j := traceHopJSON{Type: "trace_hop", TTL: h.TTL, Sent: h.Sent, Received: h.Received, Reached: h.Reached,
		Marks: h.Marks, MTU: h.MTU, MPLS: traceMPLS(h.MPLS), Addrs: []traceAddrJSON{}, Probes: []traceProbeJSON{}}
	if h.Sent > 0 {
		l := float64(int(h.Loss*1000+0.5)) / 1000
		j.LossPercent = &l
	}
	if h.Received > 0 {
		j.LastMS, j.AvgMS, j.BestMS, j.WorstMS = msPtr(h.Last), msPtr(h.Avg), msPtr(h.Best), msPtr(h.Worst)
		j.StdDevMS = msPtr(h.StdDev)
		if h.Received > 1 {
			j.JitterMS, j.JitterLastMS = msPtr(h.Jitter), msPtr(h.JitterLast)
		}
		j.ICMPType, j.ICMPCode, j.QuotedTTL, j.IPID = intPtr(h.ICMPType), intPtr(h.ICMPCode), intPtr(h.QuotedTTL), intPtr(h.IPID)
	}
	if h.MTUFrom.IsValid() {
		j.MTUFrom = h.MTUFrom.String()
	}
	for _, a := range h.Addrs {
		j.Addrs = append(j.Addrs, traceAddrJSON{Type: "trace_addr", Addr: a.Addr.String(), Name: v.names.name(a.Addr),
			Replies: a.Replies, Share: float64(int(a.Share*10000+0.5)) / 10000})
	}
	for _, pr := range h.Probes {
		j.Probes = append(j.Probes, traceProbeRecord(pr))
	}
	return j
}

func (v *traceView) record(t *traceTarget) traceJSON {
	res, o := t.res, v.req.opts
	j := traceJSON{
		Meta:   probe.Meta{Type: "trace", Target: t.name, OK: res.Reached, Start: res.Start.UTC(), ElapsedMS: probe.Millis(res.Elapsed)},
		Addr:   t.addr.String(),
		Method: string(res.Method), Port: res.Port, Socket: string(res.Socket), Size: res.Size,
		FirstTTL: o.FirstTTL, MaxTTL: o.MaxTTL, Queries: o.Queries, Flows: o.Flows, Rounds: res.Rounds,
		Reached: res.Reached, DestTTL: res.DestTTL, HopCount: len(res.Hops), PMTU: res.PMTU, Ignored: res.Ignored,
		Interrupted: res.Interrupted, Hops: []traceHopJSON{},
	}
	if j.FirstTTL == 0 {
		j.FirstTTL = 1
	}
	if j.Flows == 0 {
		j.Flows = 1
	}
	for _, h := range res.Hops {
		j.Hops = append(j.Hops, v.hopRecord(h))
	}
	if !res.Reached {
		j.Failure, j.Error = traceFailure(res)
	}
	return j
}

// traceFailure says why a destination was not reached.
func traceFailure(res trace.Result) (string, string) {
	if n := len(res.Hops); n > 0 {
		last := res.Hops[n-1]
		for _, m := range traceMarkOrder(last.Marks) {
			switch m {
			case "!H":
				return probe.FailHostUnreachable, fmt.Sprintf("host unreachable (!H) at hop %d", last.TTL)
			case "!N":
				return probe.FailNetUnreachable, fmt.Sprintf("network unreachable (!N) at hop %d", last.TTL)
			default:
				return probe.FailNoReply, fmt.Sprintf("unreachable (%s) at hop %d", m, last.TTL)
			}
		}
	}
	if res.Interrupted {
		return probe.FailCanceled, "interrupted before the destination answered"
	}
	return probe.FailNoReply, fmt.Sprintf("destination not reached within %d hops", traceLastTTL(res))
}

func traceLastTTL(res trace.Result) int {
	if n := len(res.Hops); n > 0 {
		return res.Hops[n-1].TTL
	}
	return 0
}

func traceMarkOrder(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}

func (v *traceView) final(unresolved []string) {
	p := v.p
	run := traceRunJSON{Meta: probe.Meta{Type: "trace_run", OK: true, Start: time.Now().UTC()},
		TargetsTotal: len(v.targets), Unresolved: unresolved}
	var start time.Time
	var end time.Time
	for _, t := range v.targets {
		if start.IsZero() || t.res.Start.Before(start) {
			start = t.res.Start
		}
		if e := t.res.Start.Add(t.res.Elapsed); e.After(end) {
			end = e
		}
		if t.res.Reached {
			run.Reached++
		} else {
			run.NotReached++
		}
		if t.res.Interrupted {
			run.Interrupted = true
		}
	}
	run.Start, run.ElapsedMS = start.UTC(), probe.Millis(end.Sub(start))
	if len(v.targets) == 1 {
		run.Target = v.targets[0].name
	}
	switch {
	case run.NotReached > 0:
		run.OK = false
		run.Failure = probe.FailNoReply
		run.Error = fmt.Sprintf("%d of %d destinations not reached", run.NotReached, run.TargetsTotal)
	case len(unresolved) > 0:
		run.OK = false
		run.Failure = probe.FailDNSLookup
		run.Error = fmt.Sprintf("%d names did not resolve", len(unresolved))
	}
	switch p.Format() {
	case output.JSONL:
		for _, t := range v.targets {
			p.Stream(v.record(t))
		}
		p.Doc(run)
		return
	case output.JSON:
		for _, t := range v.targets {
			run.Traces = append(run.Traces, v.record(t))
		}
		p.Doc(run)
		return
	}
	if v.live {
		v.mu.Lock()
		v.clearLocked()
		v.mu.Unlock()
	}
	for i, t := range v.targets {
		if i > 0 {
			p.TextLine("")
		}
		if v.req.report {
			v.report(t.name, t.addr, t.res)
		} else {
			v.classic(t)
		}
	}
}

// hostText is "name (addr)" when the hop has a name, else the address.
func (v *traceView) hostText(a netip.Addr) string {
	if n := v.names.name(a); n != "" {
		// The name is in presentation form (\DDD for odd bytes, as dig
		// shows it): its backslashes stay, anything else is escaped.
		return output.EscapeLine(n) + " (" + a.String() + ")"
	}
	return a.String()
}

func traceTargetText(name string, addr netip.Addr) string {
	if name == "" || name == addr.String() {
		return addr.String()
	}
	return output.Escape(name) + " (" + addr.String() + ")"
}

func (v *traceView) header(t *traceTarget) string {
	res := t.res
	what := string(res.Method)
	if res.Port != 0 {
		what += " port " + strconv.Itoa(res.Port)
	}
	return fmt.Sprintf("trace to %s, %d hops max, %d byte packets, %s", traceTargetText(t.name, t.addr), v.req.opts.MaxTTL, res.Size, what)
}

// classic prints one round as traceroute does: a line per hop, a column
// per probe, an address wherever it changes along the line.
func (v *traceView) classic(t *traceTarget) {
	p := v.p
	if !p.Quiet() {
		p.TextLine("%s", v.header(t))
	}
	for _, h := range t.res.Hops {
		var b strings.Builder
		fmt.Fprintf(&b, "%2d", h.TTL)
		var last netip.Addr
		for _, pr := range h.Probes {
			if pr.Lost {
				if b.Len() == 2 {
					b.WriteString(" ")
				}
				b.WriteString(" *")
				continue
			}
			if pr.From != last {
				b.WriteString("  " + v.hostText(pr.From))
				last = pr.From
			}
			fmt.Fprintf(&b, "  %s ms", traceMS(pr.RTT))
			if pr.Mark != "" {
				b.WriteString(" " + p.Paint(output.Red, pr.Mark))
				if pr.Mark == "!F" && pr.MTU > 0 {
					fmt.Fprintf(&b, "-%d", pr.MTU)
				}
			}
			if pr.QuotedTTL > 1 && !pr.Reached {
				fmt.Fprintf(&b, " (quoted ttl %d)", pr.QuotedTTL)
			}
		}
		if len(h.MPLS) > 0 {
			b.WriteString(" " + traceMPLSText(h.MPLS))
		}
		if h.MTU > 0 {
			fmt.Fprintf(&b, "  pmtu %d (too big after %s)", h.MTU, h.MTUFrom)
		}
		p.TextLine("%s", b.String())
	}
	if t.res.PMTU > 0 {
		p.TextLine("pmtu %d", t.res.PMTU)
	}
}

func traceMPLSText(ls []trace.MPLSLabel) string {
	var parts []string
	for _, l := range ls {
		s := 0
		if l.Bottom {
			s = 1
		}
		parts = append(parts, fmt.Sprintf("<MPLS:L=%d,E=%d,S=%d,T=%d>", l.Label, l.TC, s, l.TTL))
	}
	return strings.Join(parts, " ")
}

func traceMS(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }

func traceMS1(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }

// reportRows is the mtr --report table of one trace.
func (v *traceView) reportRows(res trace.Result) [][]string {
	rows := [][]string{{"HOP", "HOST", "Loss%", "Snt", "Last", "Avg", "Best", "Wrst", "StDev", "Jttr"}}
	for _, h := range res.Hops {
		row := []string{strconv.Itoa(h.TTL) + ".|--"}
		host := "???"
		if len(h.Addrs) > 0 {
			host = v.hostText(h.Addrs[0].Addr)
			if len(h.Addrs) > 1 {
				host += fmt.Sprintf(" %.0f%%", 100*h.Addrs[0].Share)
			}
		}
		for _, m := range traceMarkOrder(h.Marks) {
			host += " " + m
		}
		row = append(row, host, strconv.FormatFloat(h.Loss, 'f', 1, 64)+"%", strconv.Itoa(h.Sent))
		if h.Received > 0 {
			row = append(row, traceMS1(h.Last), traceMS1(h.Avg), traceMS1(h.Best), traceMS1(h.Worst), traceMS1(h.StdDev), traceMS1(h.Jitter))
		} else {
			row = append(row, "-", "-", "-", "-", "-", "-")
		}
		rows = append(rows, row)
		for _, a := range h.Addrs[min(1, len(h.Addrs)):] {
			rows = append(rows, []string{"", "   " + v.hostText(a.Addr) + fmt.Sprintf(" %.0f%%", 100*a.Share), "", "", "", "", "", "", "", ""})
		}
	}
	return rows
}

func (v *traceView) report(name string, addr netip.Addr, res trace.Result) {
	p := v.p
	if !p.Quiet() {
		state := "reached"
		if !res.Reached {
			state = "not reached"
		}
		if res.Interrupted {
			state += ", interrupted"
		}
		p.TextLine("trace to %s: %d rounds, %s, %s (rtt in ms)", traceTargetText(name, addr), res.Rounds, res.Method, state)
	}
	p.Table(v.reportRows(res))
}

// round redraws the live table (a terminal only).
func (v *traceView) round(i int, res trace.Result) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.snaps == nil {
		v.snaps = make(map[int]trace.Result)
	}
	v.snaps[i] = res
	var b strings.Builder
	rows := 0
	for k, t := range v.targets {
		s, ok := v.snaps[k]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "trace to %s: round %d\n", traceTargetText(t.name, t.addr), s.Rounds)
		rows++
		tb := tableText(v.reportRows(s))
		b.WriteString(tb)
		rows += strings.Count(tb, "\n")
	}
	v.clearLocked()
	fmt.Fprint(v.p.Stdout(), b.String())
	_ = v.p.Flush()
	v.lastRows = rows
}

// clearLocked moves the cursor back over the last live table and clears it.
func (v *traceView) clearLocked() {
	if v.lastRows > 0 {
		fmt.Fprintf(v.p.Stdout(), "\x1b[%dA\x1b[J", v.lastRows)
		_ = v.p.Flush()
		v.lastRows = 0
	}
}

func tableText(rows [][]string) string {
	var b strings.Builder
	p := output.New(&b, &b, output.Options{Format: output.Text})
	p.Table(rows)
	_ = p.Flush()
	return b.String()
}
