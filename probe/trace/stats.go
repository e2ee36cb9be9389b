package trace

import (
	"math"
	"net/netip"
	"sort"
	"time"
)

// hopAgg sums up one TTL as probes resolve (streamed: memory stays flat
// over any number of rounds).
type hopAgg struct {
	ttl        int
	sent, recv int
	last       time.Duration
	best       time.Duration
	worst      time.Duration
	mean, m2   float64 // Welford, in ns
	jsum       float64 // sum of |rtt - previous rtt|
	jn         int
	jlast      time.Duration
	haveLast   bool
	addrs      map[netip.Addr]int
	addrOrder  []netip.Addr
	marks      map[string]int
	reached    bool
	typ, code  int
	qTTL, ipid int
	mpls       []MPLSLabel
	mtu        int
	probes     []Probe // first round only
}

const maxAddrsPerHop = 256

func newHopAgg(ttl int) *hopAgg {
	return &hopAgg{ttl: ttl, typ: -1, code: -1, qTTL: -1, ipid: -1}
}

func (h *hopAgg) add(p Probe) {
	h.sent++
	if p.Round == 0 && len(h.probes) < MaxQueries*MaxFlows {
		h.probes = append(h.probes, p)
	}
	if p.Lost {
		return
	}
	h.recv++
	rtt := p.RTT
	if h.recv == 1 || rtt < h.best {
		h.best = rtt
	}
	if rtt > h.worst {
		h.worst = rtt
	}
	if h.haveLast {
		d := rtt - h.last
		if d < 0 {
			d = -d
		}
		h.jlast = d
		h.jsum += float64(d)
		h.jn++
	}
	h.last, h.haveLast = rtt, true
	x := float64(rtt)
	delta := x - h.mean
	h.mean += delta / float64(h.recv)
	h.m2 += delta * (x - h.mean)
	if p.From.IsValid() {
		if h.addrs == nil {
			h.addrs = make(map[netip.Addr]int)
		}
		if _, seen := h.addrs[p.From]; seen || len(h.addrs) < maxAddrsPerHop {
			if !seen {
				h.addrOrder = append(h.addrOrder, p.From)
			}
			h.addrs[p.From]++
		}
	}
	if p.Mark != "" {
		if h.marks == nil {
			h.marks = make(map[string]int)
		}
		h.marks[p.Mark]++
	}
	if p.Reached {
		h.reached = true
	}
	h.typ, h.code, h.qTTL, h.ipid, h.mpls = p.ICMPType, p.ICMPCode, p.QuotedTTL, p.IPID, p.MPLS
	if p.MTU > 0 {
		h.mtu = p.MTU
	}
}

func (h *hopAgg) hop() Hop {
	o := Hop{TTL: h.ttl, Sent: h.sent, Received: h.recv, Reached: h.reached,
		ICMPType: h.typ, ICMPCode: h.code, QuotedTTL: h.qTTL, IPID: h.ipid, MTU: h.mtu}
	if h.sent > 0 {
		o.Loss = 100 * float64(h.sent-h.recv) / float64(h.sent)
	}
	if h.recv > 0 {
		o.Last, o.Best, o.Worst = h.last, h.best, h.worst
		o.Avg = time.Duration(h.mean)
		o.StdDev = time.Duration(math.Sqrt(h.m2 / float64(h.recv)))
		if h.jn > 0 {
			o.Jitter = time.Duration(h.jsum / float64(h.jn))
			o.JitterLast = h.jlast
		}
	}
	for _, a := range h.addrOrder {
		n := h.addrs[a]
		o.Addrs = append(o.Addrs, AddrStat{Addr: a, Replies: n, Share: float64(n) / float64(h.recv)})
	}
	// Most replies first; ties keep the order first seen.
	sort.SliceStable(o.Addrs, func(i, j int) bool { return o.Addrs[i].Replies > o.Addrs[j].Replies })
	if len(h.marks) > 0 {
		o.Marks = make(map[string]int, len(h.marks))
		for k, v := range h.marks {
			o.Marks[k] = v
		}
	}
	o.MPLS = append([]MPLSLabel(nil), h.mpls...)
	o.Probes = append([]Probe(nil), h.probes...)
	return o
}
