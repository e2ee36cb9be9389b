package ping

import (
	"math"
	"net"
	"net/netip"
	"time"

	"github.com/nettool/nettool/probe"
)

// welford keeps the mean and variance of RTTs in constant memory.
type welford struct {
	n        int
	mean, m2 float64
	min, max time.Duration
}

func (w *welford) add(d time.Duration) {
	w.n++
	x := float64(d)
	delta := x - w.mean
	w.mean += delta / float64(w.n)
	w.m2 += delta * (x - w.mean)
	if w.n == 1 || d < w.min {
		w.min = d
	}
	if d > w.max {
		w.max = d
	}
}

func (w *welford) mdev() time.Duration {
	if w.n == 0 {
		return 0
	}
	return time.Duration(math.Sqrt(w.m2 / float64(w.n)))
}

// CheckSize checks that a payload of size bytes fits in one IP packet to
// every target (65507 bytes over IPv4, 65527 over IPv6).
func CheckSize(targets []Target, size int) error {
	for _, t := range targets {
		limit := maxPayloadV4
		if !t.Addr.Is4() {
			limit = maxPayloadV6
		}
		if size > limit {
			return probe.Usagef("packet size %d is too big for %s (at most %d)", size, t.Name, limit)
		}
	}
	return nil
}

// windowSize is how many recent probes each host remembers: enough to hold
// every probe that can still be waiting for its reply, a power of two, and
// within a budget for all hosts together (past it, the oldest probe still
// waiting is given up as lost when its slot is needed).
func windowSize(o Options, hosts int) int {
	need := defaultWindowCap
	if o.Wait > 0 && o.Interval > 0 {
		need = int(o.Wait/o.Interval) + 2
	}
	if o.Count > 0 && o.Count < need {
		need = o.Count
	}
	if need > maxWindow {
		need = maxWindow
	}
	if hosts > 0 && need > maxSlotsTotal/hosts {
		need = max(4, maxSlotsTotal/hosts)
	}
	n := 1
	for n < need {
		n <<= 1
	}
	if hosts > 0 && n > need && n > 4 && n*hosts > maxSlotsTotal {
		n >>= 1
	}
	return n
}

func ipFromNet(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
