//go:build linux

package ping

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/nettool/nettool/probe"
	"golang.org/x/sys/unix"
)

// Probe states in a host's window.
const (
	stFree uint8 = iota
	stPending
	stAnswered
	stLost
)

type slot struct {
	seq   uint64 // 1-based probe counter; 0: never used
	sent  int64  // wall clock, Unix ns (kernel receive stamps are wall clock too)
	state uint8
}

type host struct {
	idx  int
	t    Target
	s    *sock
	sa   unix.Sockaddr
	id   uint16
	ring []slot // bounded window of recent probes
	mask uint64
	next uint64 // the counter of the next probe to send (from 1)

	sent, recv, dup, late, lost, errs, pending int
	w                                          welford
}

type expiry struct {
	at  time.Time
	h   *host
	seq uint64
}

type engine struct {
	mu      sync.Mutex
	opts    Options
	hosts   []*host
	cookie  uint32
	byID    map[idKey]*host
	byAddr  map[netip.Addr]*host
	expq    []expiry
	expHead int
	buf     []byte
	closed  bool
	sendEnd bool // every host has had its Count probes
	pending int
	wake    chan struct{}
}

type idKey struct {
	v6 bool
	id uint16
}

// Run pings targets until every probe has its answer or its wait ran out,
// the deadline passes, or ctx ends (Ctrl-C). Statistics are returned in all
// three cases. The error is non-nil only when the run could not start: a
// *PermissionError when no ICMP socket could be opened, a usage error for a
// bad size.
func Run(ctx context.Context, targets []Target, opts Options) (*Result, error) {
	if len(targets) == 0 {
		return nil, probe.Usagef("no host to ping")
	}
	if len(targets) > MaxHosts {
		return nil, probe.Usagef("too many hosts (%d, at most %d)", len(targets), MaxHosts)
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Engine == EngineProBing {
		return runProBing(ctx, targets, opts)
	}
	e := &engine{
		opts:   opts,
		byID:   make(map[idKey]*host),
		byAddr: make(map[netip.Addr]*host),
		wake:   make(chan struct{}, 1),
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	e.cookie = binary.BigEndian.Uint32(rnd[:4])
	idBase := binary.BigEndian.Uint16(rnd[4:])

	if err := CheckSize(targets, opts.Size); err != nil {
		return nil, err
	}
	// One socket per family in use.
	var socks [2]*sock
	res := &Result{}
	defer func() {
		for _, s := range socks {
			if s != nil {
				s.close()
			}
		}
	}()
	for _, t := range targets {
		v6 := !t.Addr.Is4()
		if !t.Addr.IsValid() {
			return nil, probe.Usagef("no address for %q", t.Name)
		}
		fi := 0
		if v6 {
			fi = 1
		}
		if socks[fi] == nil {
			s, err := openSocket(v6, opts.Socket, opts.TTL)
			if err != nil {
				return nil, err
			}
			if opts.DontFragment {
				if err := s.setDontFragment(); err != nil {
					s.close()
					return nil, err
				}
			}
			socks[fi] = s
			fam := "ipv4"
			if v6 {
				fam = "ipv6"
			}
			res.Sockets = append(res.Sockets, SocketInfo{Family: fam, Kind: s.kind, ID: s.id})
		}
	}

	window := windowSize(opts, len(targets))
	for i, t := range targets {
		fi := 0
		if !t.Addr.Is4() {
			fi = 1
		}
		h := &host{idx: i, t: t, s: socks[fi], sa: sockaddr(t.Addr), next: 1}
		h.ring = make([]slot, window)
		h.mask = uint64(window - 1)
		if h.s.kind == KindRaw {
			h.id = idBase + uint16(i)
			e.byID[idKey{fi == 1, h.id}] = h
		} else {
			h.id = h.s.id
		}
		if _, dup := e.byAddr[t.Addr]; !dup {
			e.byAddr[t.Addr] = h
		}
		e.hosts = append(e.hosts, h)
	}

	if opts.OnStart != nil {
		opts.OnStart(res.Sockets)
	}
	var wg sync.WaitGroup
	for _, s := range socks {
		if s != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.readLoop(s)
			}()
		}
	}
	e.schedule(ctx, res)

	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	for i, s := range socks {
		if s != nil {
			s.close()
			socks[i] = nil
		}
	}
	wg.Wait()

	res.Elapsed = time.Since(res.Start)
	for _, h := range e.hosts {
		hs := HostStats{
			Target: h.t, Socket: h.s.kind, ID: h.id,
			Sent: h.sent, Received: h.recv, Duplicates: h.dup, Late: h.late,
			Lost: h.lost, Errors: h.errs, InFlight: h.pending,
			Min: h.w.min, Max: h.w.max, Avg: time.Duration(h.w.mean), Mdev: h.w.mdev(),
		}
		res.Hosts = append(res.Hosts, hs)
	}
	return res, nil
}

// schedule sends the probes round by round, interleaving the hosts, and
// expires the probes whose wait ran out, until the run is over.
func (e *engine) schedule(ctx context.Context, res *Result) {
	n := len(e.hosts)
	gap := e.opts.Gap
	if gap == 0 {
		gap = e.opts.Interval / time.Duration(n)
		if gap > 10*time.Millisecond {
			gap = 10 * time.Millisecond
		}
	}
	start := time.Now()
	res.Start = start
	var deadline time.Time
	if e.opts.Deadline > 0 {
		deadline = start.Add(e.opts.Deadline)
	}
	total := uint64(0)
	if e.opts.Count > 0 {
		total = uint64(e.opts.Count) * uint64(n)
	}
	var k uint64 // probes sent so far, all hosts
	// A round cannot be shorter than its hosts times the gap: then the
	// interval per host stretches, as with fping's -p and -i.
	period := e.opts.Interval
	if span := time.Duration(n) * gap; span > period {
		period = span
	}
	due := func(k uint64) time.Time {
		round, i := k/uint64(n), k%uint64(n)
		return start.Add(time.Duration(round)*period + time.Duration(i)*gap)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		if !deadline.IsZero() && !now.Before(deadline) {
			res.DeadlineReached = true
			return
		}
		// Send what is due.
		for (total == 0 || k < total) && !due(k).After(now) {
			e.sendProbe(e.hosts[k%uint64(n)])
			k++
			if k&63 == 0 {
				now = time.Now()
			}
		}
		e.mu.Lock()
		if total != 0 && k >= total {
			e.sendEnd = true
		}
		now = time.Now()
		e.expireLocked(now)
		done := e.sendEnd && e.pending == 0
		var next time.Time
		if total == 0 || k < total {
			next = due(k)
		}
		if e.expHead < len(e.expq) {
			if at := e.expq[e.expHead].at; next.IsZero() || at.Before(next) {
				next = at
			}
		}
		e.mu.Unlock()
		if done {
			return
		}
		if !deadline.IsZero() && (next.IsZero() || deadline.Before(next)) {
			next = deadline
		}
		var tc <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			res.Interrupted = true
			return
		case <-tc:
		case <-e.wake:
		}
	}
}

// sendProbe sends the next probe to h.
func (e *engine) sendProbe(h *host) {
	e.mu.Lock()
	defer e.mu.Unlock()
	seq := h.next
	h.next++
	sl := &h.ring[seq&h.mask]
	if sl.state == stPending {
		// The window is full of unanswered probes (no reply deadline):
		// the oldest is given up as lost.
		e.loseLocked(h, sl, time.Duration(time.Now().UnixNano()-sl.sent).Round(time.Millisecond), "")
	}
	*sl = slot{seq: seq, state: stPending}
	wireSeq := uint16(seq)
	sent, err := h.s.send(h.sa, func(now time.Time) []byte {
		e.buf = buildEcho(e.buf, h.s.v6, h.id, wireSeq, e.cookie, uint32(h.idx), now.UnixNano(), e.opts.Size)
		return e.buf
	})
	sl.sent = sent.UnixNano()
	h.sent++
	h.pending++
	e.pending++
	if err != nil {
		h.errs++
		e.loseLocked(h, sl, 0, errText(err))
		return
	}
	if e.opts.Wait > 0 {
		e.expq = append(e.expq, expiry{at: sent.Add(e.opts.Wait), h: h, seq: seq})
	}
}

// loseLocked counts a pending probe as lost and tells the caller.
func (e *engine) loseLocked(h *host, sl *slot, waited time.Duration, errMsg string) {
	sl.state = stLost
	h.lost++
	h.pending--
	e.pending--
	ev := Event{Kind: EventLost, Host: h.idx, Target: h.t, Seq: int(sl.seq), TTL: -1, Waited: waited, Time: time.Now()}
	if errMsg != "" {
		ev.Kind = EventError
		ev.Err = errMsg
	}
	e.emit(ev)
}

func (e *engine) expireLocked(now time.Time) {
	for e.expHead < len(e.expq) && !e.expq[e.expHead].at.After(now) {
		x := e.expq[e.expHead]
		e.expq[e.expHead] = expiry{}
		e.expHead++
		sl := &x.h.ring[x.seq&x.h.mask]
		if sl.seq == x.seq && sl.state == stPending {
			e.loseLocked(x.h, sl, e.opts.Wait, "")
		}
	}
	if e.expHead == len(e.expq) {
		e.expq, e.expHead = e.expq[:0], 0
	} else if e.expHead > 4096 && e.expHead > len(e.expq)/2 {
		n := copy(e.expq, e.expq[e.expHead:])
		e.expq, e.expHead = e.expq[:n], 0
	}
}

func (e *engine) emit(ev Event) {
	if e.opts.OnEvent != nil && !e.closed {
		e.opts.OnEvent(ev)
	}
}

func (e *engine) readLoop(s *sock) {
	buf := make([]byte, maxICMPMessageToRead+60)
	oob := make([]byte, 256)
	for {
		r, err := s.recv(buf, oob)
		if err != nil {
			if errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
				return
			}
			e.mu.Lock()
			closed := e.closed
			e.mu.Unlock()
			if closed {
				return
			}
			continue
		}
		var p parsed
		if r.isErr {
			p, err = parseQueuedError(buf[:r.n], s.v6, r)
			r.from = r.offender
		} else {
			p, err = parseMessage(buf[:r.n], s.v6, s.kind == KindRaw && !s.v6)
		}
		if err != nil || p.kind == msgOther {
			continue
		}
		e.handle(s, r, p)
	}
}

// handle matches a reply or an ICMP error to its probe.
func (e *engine) handle(s *sock, r received, p parsed) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	var h *host
	if cookie, idx, ok := payloadTag(p.payload); ok {
		if cookie != e.cookie || int(idx) >= len(e.hosts) {
			return // another program's probe, or garbage
		}
		h = e.hosts[idx]
		if h.s != s || (s.kind == KindRaw && h.id != p.id) {
			return
		}
	} else if p.kind == msgReply && e.opts.Size >= payloadTagLen {
		return // our replies carry the tag: this one is not ours
	} else if s.kind == KindRaw {
		h = e.byID[idKey{s.v6, p.id}]
		if h != nil && p.kind == msgError && p.quotedDst != h.t.Addr {
			return
		}
	} else {
		addr := r.from
		if p.kind == msgError {
			addr = p.quotedDst
		}
		h = e.byAddr[addr.Unmap()]
	}
	if h == nil || h.s != s {
		return
	}
	sl := &h.ring[uint64(p.seq)&h.mask]
	if sl.seq == 0 || uint16(sl.seq) != p.seq {
		return // older than the window, or never sent
	}
	if p.kind == msgError {
		if sl.state != stPending {
			return
		}
		h.errs++
		msg := p.errText
		if msg == "" {
			msg = errorText(p.errType, p.errCode, s.v6)
		}
		ev := Event{Kind: EventError, Host: h.idx, Target: h.t, Seq: int(sl.seq), From: r.from, TTL: -1, Err: msg, Time: r.when}
		sl.state = stLost
		h.lost++
		h.pending--
		e.pending--
		e.emit(ev)
		e.maybeWake()
		return
	}
	rtt := time.Duration(r.when.UnixNano() - sl.sent)
	if rtt < 0 || rtt > time.Hour {
		rtt = time.Duration(time.Now().UnixNano() - sl.sent) // a stamp from before a clock step
	}
	ttl := r.ttl
	if ttl < 0 {
		ttl = p.ttl
	}
	ev := Event{Kind: EventReply, Host: h.idx, Target: h.t, Seq: int(sl.seq), From: r.from.Unmap(), TTL: ttl,
		Bytes: p.bytes, RTT: rtt, Time: r.when}
	switch sl.state {
	case stPending:
		sl.state = stAnswered
		h.recv++
		h.pending--
		e.pending--
		h.w.add(rtt)
	case stAnswered:
		h.dup++
		ev.Dup = true
	case stLost:
		h.late++
		ev.Late = true
	default:
		return
	}
	e.emit(ev)
	e.maybeWake()
}

func (e *engine) maybeWake() {
	if e.sendEnd && e.pending == 0 {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
}

func netInterfaceIndex(name string) (int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, err
	}
	return ifi.Index, nil
}
