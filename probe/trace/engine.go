package trace

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"sync"
	"time"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/ping"
)

// answer is what a transport read back for one probe.
type answer struct {
	key       uint16
	flow      int
	from      netip.Addr
	when      time.Time
	reached   bool // the destination answered (echo reply, port unreachable, TCP SYN-ACK or RST)
	typ, code int  // ICMP type and code; -1 for a TCP connect answer
	qTTL      int
	ipid      int
	mtu       int
	mpls      []MPLSLabel
}

// transport sends probes of one method and hands what comes back to
// engine.answer.
type transport interface {
	send(p *pending) (time.Time, error)
	drain()          // handle every message already queued, without waiting
	forget(k uint16) // the probe is resolved: drop what it holds
	close()          // close the sockets; readers are done when it returns
	kind() ping.SocketKind
}

// pending is a probe in flight.
type pending struct {
	key                     uint16
	ttl, round, query, flow int
	sent                    time.Time
	hardAt, softAt          time.Time
}

func (p *pending) expiry() time.Time {
	if !p.softAt.IsZero() && p.softAt.Before(p.hardAt) {
		return p.softAt
	}
	return p.hardAt
}

type engine struct {
	mu       sync.Mutex
	o        Options
	dst      netip.Addr
	v6       bool
	cookie   uint32
	tr       transport
	inflight map[uint16]*pending
	nextKey  uint16
	hops     []*hopAgg // index ttl - FirstTTL
	termTTL  int       // smallest TTL that reached the destination or got an unreachable
	destTTL  int       // smallest TTL the destination answered at
	ignored  int
	pmtu     int
	wake     chan struct{}
	closed   bool
	roundOut map[int]int // probes of a round not resolved yet
	sentAll  int         // rounds whose probes were all sent
	rounds   int         // rounds completed
	start    time.Time
}

// Run traces the path to dst. The error is non-nil only when the trace
// could not run: a usage error for bad options, a *ping.PermissionError
// (wrapped in a probe.LocalError) when no ICMP socket could be opened, a
// probe.LocalError for another local failure. A destination never reached
// is a Result with Reached false.
func Run(ctx context.Context, dst netip.Addr, o Options) (Result, error) {
	o.withDefaults()
	if err := o.Validate(); err != nil {
		return Result{}, err
	}
	dst = dst.Unmap()
	if !dst.IsValid() {
		return Result{}, probe.Usagef("no address to trace")
	}
	if o.Source.IsValid() && o.Source.Unmap().Is4() != dst.Is4() {
		return Result{}, probe.Usagef("source %s and destination %s are of different families", o.Source, dst)
	}
	e := &engine{o: o, dst: dst, v6: !dst.Is4(), inflight: make(map[uint16]*pending),
		wake: make(chan struct{}, 1), roundOut: make(map[int]int)}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	e.cookie = binary.BigEndian.Uint32(rnd[:4])
	e.nextKey = binary.BigEndian.Uint16(rnd[4:])
	for ttl := o.FirstTTL; ttl <= o.MaxTTL; ttl++ {
		e.hops = append(e.hops, newHopAgg(ttl))
	}
	size, err := packetSize(o, e.v6)
	if err != nil {
		return Result{}, err
	}
	tr, err := newTransport(e, size)
	if err != nil {
		return Result{}, err
	}
	e.tr = tr
	e.start = time.Now()
	interrupted := e.schedule(ctx)
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	tr.close()

	e.mu.Lock()
	defer e.mu.Unlock()
	res := e.snapshot()
	res.Size = size
	res.Interrupted = interrupted
	res.Elapsed = time.Since(e.start)
	return res, nil
}

// Header sizes.
const (
	ipv4Header = 20
	ipv6Header = 40
	udpHeader  = 8
	tcpSYNSize = 60 // IPv4 header + a SYN with Linux's options (v6: 80)
)

// DefaultSize is the packet size sent when Options.Size is 0: 60 bytes on
// IPv4 and 80 on IPv6, as traceroute.
func DefaultSize(v6 bool) int {
	if v6 {
		return 80
	}
	return 60
}

func packetSize(o Options, v6 bool) (int, error) {
	hdr := ipv4Header
	if v6 {
		hdr = ipv6Header
	}
	if o.Method == TCP {
		// A SYN carries no payload: its size is the kernel's.
		return hdr + 40, nil
	}
	size := o.Size
	if size == 0 {
		size = DefaultSize(v6)
	}
	min := hdr + icmpHeaderLen + tagLen // UDP's header is as long as ICMP's
	if size < min {
		return 0, probe.Usagef("packet size %d is too small (at least %d for %s over IPv%s)", size, min, o.Method, map[bool]string{false: "4", true: "6"}[v6])
	}
	return size, nil
}

func (e *engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// schedule sends probes round by round, ttl by ttl, keeping at most
// InFlight in flight, and expires the ones whose wait ran out. It returns
// true when ctx ended the run.
func (e *engine) schedule(ctx context.Context) bool {
	o := e.o
	round, ttl, q, f := 0, o.FirstTTL, 0, 0
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		e.mu.Lock()
		now := time.Now()
		due := false
		for _, p := range e.inflight {
			if !p.expiry().After(now) {
				due = true
				break
			}
		}
		if due {
			// What the kernel already queued is read before any probe is
			// given up, so a busy reader never makes a live hop look silent.
			e.mu.Unlock()
			e.tr.drain()
			e.mu.Lock()
			now = time.Now()
			for _, p := range e.inflight {
				if !p.expiry().After(now) {
					e.resolveLocked(p, Probe{Lost: true, Time: now})
				}
			}
		}
		// Send what may be sent.
		var next time.Time
		for round < o.Rounds && len(e.inflight) < o.InFlight {
			limit := o.MaxTTL
			if e.termTTL > 0 {
				limit = e.termTTL
			}
			if ttl > limit {
				e.sentAll = round + 1
				e.roundDoneLocked(round)
				round, ttl, q, f = round+1, o.FirstTTL, 0, 0
				continue
			}
			if at := e.start.Add(time.Duration(round) * o.Interval); at.After(now) {
				next = at
				break
			}
			e.sendLocked(ttl, round, q, f)
			if f++; f == o.Flows {
				f = 0
				if q++; q == o.Queries {
					q = 0
					ttl++
				}
			}
		}
		if round >= o.Rounds && e.sentAll < o.Rounds {
			e.sentAll = o.Rounds
		}
		done := round >= o.Rounds && len(e.inflight) == 0
		for _, p := range e.inflight {
			if x := p.expiry(); next.IsZero() || x.Before(next) {
				next = x
			}
		}
		e.mu.Unlock()
		if done {
			return false
		}
		var tc <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return true
		case <-tc:
		case <-e.wake:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func (e *engine) sendLocked(ttl, round, q, f int) {
	for e.inflight[e.nextKey] != nil {
		e.nextKey++
	}
	p := &pending{key: e.nextKey, ttl: ttl, round: round, query: q, flow: f}
	e.nextKey++
	e.inflight[p.key] = p
	e.roundOut[round]++
	sent, err := e.tr.send(p)
	p.sent = sent
	p.hardAt = sent.Add(e.o.Wait)
	if err != nil {
		// A send the kernel refused (no route, ...) is a lost probe.
		e.resolveLocked(p, Probe{Lost: true, Time: time.Now()})
	}
}

// resolveLocked records a probe's fate and drops it from the flight.
func (e *engine) resolveLocked(p *pending, pr Probe) {
	delete(e.inflight, p.key)
	e.tr.forget(p.key)
	pr.TTL, pr.Round, pr.Query, pr.Flow = p.ttl, p.round, p.query, p.flow
	if pr.Lost {
		pr.ICMPType, pr.ICMPCode, pr.QuotedTTL, pr.IPID = -1, -1, -1, -1
	}
	e.hops[p.ttl-e.o.FirstTTL].add(pr)
	if e.o.OnProbe != nil && !e.closed {
		e.o.OnProbe(pr)
	}
	e.roundOut[p.round]--
	e.roundDoneLocked(p.round)
}

// roundDoneLocked reports a round whose probes were all sent and resolved.
func (e *engine) roundDoneLocked(round int) {
	if e.roundOut[round] != 0 || round >= e.sentAll {
		return
	}
	delete(e.roundOut, round)
	if round+1 > e.rounds {
		e.rounds = round + 1
		if e.o.OnRound != nil && !e.closed {
			e.o.OnRound(e.snapshot())
		}
	}
}

// answer matches what came back to its probe.
func (e *engine) answer(a answer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	p := e.inflight[a.key]
	if p == nil || p.flow != a.flow || p.sent.IsZero() {
		e.ignored++
		return
	}
	rtt := a.when.Sub(p.sent)
	if rtt < 0 || rtt > time.Hour {
		rtt = time.Since(p.sent)
	}
	mark := ""
	if a.typ >= 0 && !a.reached {
		mark = markOf(e.v6, a.typ, a.code)
	}
	if a.mtu > 0 && (e.pmtu == 0 || a.mtu < e.pmtu) {
		e.pmtu = a.mtu
	}
	pr := Probe{From: a.from, RTT: rtt, Reached: a.reached, ICMPType: a.typ, ICMPCode: a.code, Mark: mark,
		QuotedTTL: a.qTTL, IPID: a.ipid, MTU: a.mtu, MPLS: a.mpls, Time: a.when}
	ttl, round, sent := p.ttl, p.round, p.sent
	e.resolveLocked(p, pr)
	if a.reached && (e.destTTL == 0 || ttl < e.destTTL) {
		e.destTTL = ttl
	}
	if a.reached || (mark != "" && mark != "!F") {
		if e.termTTL == 0 || ttl < e.termTTL {
			e.termTTL = ttl
			// Probes beyond the end of the path tell nothing more.
			for _, q := range e.inflight {
				if q.ttl > ttl {
					delete(e.inflight, q.key)
					e.tr.forget(q.key)
					e.roundOut[q.round]--
					e.roundDoneLocked(q.round)
				}
			}
		}
	}
	// A silent hop before this one need not be waited for much longer.
	grace := time.Duration(NearFactor) * rtt
	if grace < MinGrace {
		grace = MinGrace
	}
	soft := a.when.Add(grace)
	for _, q := range e.inflight {
		if q.round == round && q.ttl < ttl && !q.sent.After(sent) && (q.softAt.IsZero() || soft.Before(q.softAt)) {
			q.softAt = soft
		}
	}
	e.signal()
}

// countIgnored counts a message that was not an answer to any probe.
func (e *engine) countIgnored() {
	e.mu.Lock()
	e.ignored++
	e.mu.Unlock()
}

// snapshot is the result so far (e.mu held).
func (e *engine) snapshot() Result {
	res := Result{Target: e.dst, Method: e.o.Method, Port: e.o.Port, Socket: e.tr.kind(),
		DestTTL: e.destTTL, Reached: e.destTTL > 0, Rounds: e.rounds, PMTU: e.pmtu, Ignored: e.ignored, Start: e.start}
	if e.o.Method == ICMP {
		res.Port = 0
	}
	last := len(e.hops) - 1
	if e.termTTL > 0 {
		last = e.termTTL - e.o.FirstTTL
	} else {
		// Not ended yet (or never): up to the furthest hop probed.
		for last >= 0 && e.hops[last].sent == 0 {
			last--
		}
	}
	for _, h := range e.hops[:last+1] {
		res.Hops = append(res.Hops, h.hop())
	}
	return res
}

// localMTU notes the MTU the kernel reported for a probe it would not send
// (path MTU discovery).
func (e *engine) localMTU(key uint16, flow, mtu int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if mtu > 0 && (e.pmtu == 0 || mtu < e.pmtu) {
		e.pmtu = mtu
	}
}
