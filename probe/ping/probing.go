//go:build linux

package ping

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"net"
	"sync"
	"time"

	probing "github.com/prometheus-community/pro-bing"

	"github.com/nettool/nettool/probe"
)

// runProBing pings with pro-bing, one Pinger per host, with nettool's
// wrapper around the library's traps (research/ping_tcp.md §1.5): the
// socket kind is chosen by nettool's dgram-then-raw probe (pro-bing alone
// only tries the unprivileged socket), IDs are handed out distinct instead
// of at random, the name is resolved by nettool, Size is iputils' 56, the
// logger is silent, RTT/TTL lists are off (memory), Timeout is always set
// (pro-bing's Run never returns when a reply is lost), and each probe gets
// its own reply deadline so lost probes are reported as they happen.
//
// It is the second opinion behind `--engine pro-bing`; the native engine is
// the default because pro-bing's RTTs include userspace time and it needs a
// socket and goroutines per host, which does not scale to 1,000 hosts.
func runProBing(ctx context.Context, targets []Target, opts Options) (*Result, error) {
	if opts.Size < 24 {
		return nil, probe.Usagef("--engine pro-bing needs a packet size of 24 or more (its timestamp and UUID)")
	}
	if err := CheckSize(targets, opts.Size); err != nil {
		return nil, err
	}
	res := &Result{}
	var kinds [2]SocketKind
	for _, t := range targets {
		fi := 0
		if !t.Addr.Is4() {
			fi = 1
		}
		if kinds[fi] != "" {
			continue
		}
		s, err := openSocket(fi == 1, opts.Socket, opts.TTL)
		if err != nil {
			return nil, err
		}
		kinds[fi] = s.kind
		s.close()
		res.Sockets = append(res.Sockets, SocketInfo{Family: map[int]string{0: "ipv4", 1: "ipv6"}[fi], Kind: s.kind})
	}

	e := &engine{opts: opts, wake: make(chan struct{}, 1)}
	var rnd [2]byte
	_, _ = rand.Read(rnd[:])
	idBase := binary.BigEndian.Uint16(rnd[:])
	window := windowSize(opts, len(targets))
	pingers := make([]*probing.Pinger, len(targets))
	timers := make([][]*time.Timer, len(targets))
	for i, t := range targets {
		fi := 0
		if !t.Addr.Is4() {
			fi = 1
		}
		h := &host{idx: i, t: t, s: &sock{v6: fi == 1, kind: kinds[fi]}, ring: make([]slot, window), mask: uint64(window - 1), id: idBase + uint16(i), next: 1}
		e.hosts = append(e.hosts, h)
		timers[i] = make([]*time.Timer, window)

		p := probing.New("")
		p.SetIPAddr(&net.IPAddr{IP: t.Addr.AsSlice(), Zone: t.Addr.Zone()})
		if fi == 0 {
			p.SetNetwork("ip4")
		} else {
			p.SetNetwork("ip6")
		}
		p.SetPrivileged(kinds[fi] == KindRaw)
		p.SetID(int(h.id))
		p.SetLogger(probing.NoopLogger{})
		p.RecordRtts, p.RecordTTLs = false, false
		p.Size = opts.Size
		if opts.TTL > 0 {
			p.TTL = opts.TTL
		}
		p.Interval = opts.Interval
		p.Count = -1
		if opts.Count > 0 {
			p.Count = opts.Count
		}
		// Always bounded: the last probe's send time plus its wait.
		switch {
		case opts.Deadline > 0:
			p.Timeout = opts.Deadline
		case opts.Count > 0:
			wait := opts.Wait
			if wait == 0 {
				wait = 10 * time.Second
			}
			// A second of grace: the probes' own timers decide what is lost.
			p.Timeout = time.Duration(opts.Count-1)*opts.Interval + wait + time.Second
		default:
			p.Timeout = maxTimeFlag
		}
		p.OnSend = func(pkt *probing.Packet) {
			e.mu.Lock()
			defer e.mu.Unlock()
			seq := h.next
			h.next++
			sl := &h.ring[seq&h.mask]
			if sl.state == stPending {
				e.loseLocked(h, sl, 0, "")
			}
			*sl = slot{seq: seq, state: stPending, sent: time.Now().UnixNano()}
			h.sent++
			h.pending++
			e.pending++
			if opts.Wait > 0 {
				if old := timers[i][seq&h.mask]; old != nil {
					old.Stop()
				}
				timers[i][seq&h.mask] = time.AfterFunc(opts.Wait, func() {
					e.mu.Lock()
					defer e.mu.Unlock()
					if s := &h.ring[seq&h.mask]; s.seq == seq && s.state == stPending {
						e.loseLocked(h, s, opts.Wait, "")
						e.maybeWake()
					}
				})
			}
		}
		recv := func(pkt *probing.Packet, dup bool) {
			e.mu.Lock()
			defer e.mu.Unlock()
			sl := &h.ring[uint64(uint16(pkt.Seq+1))&h.mask]
			if sl.seq == 0 || uint16(sl.seq) != uint16(pkt.Seq+1) {
				return
			}
			ev := Event{Kind: EventReply, Host: i, Target: t, Seq: int(sl.seq), TTL: pkt.TTL, Bytes: pkt.Nbytes, RTT: pkt.Rtt, Time: time.Now()}
			if pkt.IPAddr != nil {
				ev.From = ipFromNet(pkt.IPAddr.IP)
			}
			switch {
			case dup || sl.state == stAnswered:
				h.dup++
				ev.Dup = true
			case sl.state == stLost:
				h.late++
				ev.Late = true
			case sl.state == stPending:
				sl.state = stAnswered
				h.recv++
				h.pending--
				e.pending--
				h.w.add(pkt.Rtt)
			}
			e.emit(ev)
			e.maybeWake()
		}
		p.OnRecv = func(pkt *probing.Packet) { recv(pkt, false) }
		p.OnDuplicateRecv = func(pkt *probing.Packet) { recv(pkt, true) }
		pingers[i] = p
	}

	if opts.OnStart != nil {
		opts.OnStart(res.Sockets)
	}
	res.Start = time.Now()
	var wg sync.WaitGroup
	runErrs := make([]error, len(pingers))
	for i, p := range pingers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runErrs[i] = p.RunWithContext(ctx)
		}()
	}
	wg.Wait()
	// pro-bing's Run ends at its Timeout; probes still waiting then get
	// the rest of their own wait, so a lost probe is always reported.
	if ctx.Err() == nil && opts.Deadline == 0 && opts.Wait > 0 {
		e.mu.Lock()
		e.sendEnd = true
		waiting := e.pending > 0
		e.mu.Unlock()
		if waiting {
			select {
			case <-e.wake:
			case <-ctx.Done():
			}
		}
	}
	e.mu.Lock()
	e.closed = true
	for _, ts := range timers {
		for _, tm := range ts {
			if tm != nil {
				tm.Stop()
			}
		}
	}
	e.mu.Unlock()
	res.Elapsed = time.Since(res.Start)
	res.Interrupted = ctx.Err() != nil
	res.DeadlineReached = opts.Deadline > 0 && res.Elapsed >= opts.Deadline
	for i, h := range e.hosts {
		hs := HostStats{
			Target: h.t, Socket: h.s.kind, ID: h.id,
			Sent: h.sent, Received: h.recv, Duplicates: h.dup, Late: h.late,
			Lost: h.lost, Errors: h.errs, InFlight: h.pending,
			Min: h.w.min, Max: h.w.max, Avg: time.Duration(h.w.mean), Mdev: h.w.mdev(),
		}
		if h.s.kind == KindDgram {
			hs.ID = 0 // the kernel's, which pro-bing does not report
		}
		if runErrs[i] != nil && hs.Sent == 0 {
			return nil, probe.Localf("pro-bing: %v", runErrs[i])
		}
		res.Hosts = append(res.Hosts, hs)
	}
	return res, nil
}
