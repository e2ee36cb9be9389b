//go:build linux

package trace

import (
	"net/netip"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// TestECMP: r1 spreads flows over ra and rb (a multipath route hashed on
// the ports, fib_multipath_hash_policy=1); both lead to r2 and the server.
// One flow takes one path every round; 16 flows find both routers.
func TestECMP(t *testing.T) {
	c := probetest.NewNetns(t, "trace-ec")
	r1 := probetest.NewNetns(t, "trace-er1")
	ra := probetest.NewNetns(t, "trace-era")
	rb := probetest.NewNetns(t, "trace-erb")
	r2 := probetest.NewNetns(t, "trace-er2")
	s := probetest.NewNetns(t, "trace-es")
	for _, r := range []*probetest.Netns{r1, ra, rb, r2} {
		r.Sysctl("net.ipv4.ip_forward=1")
	}
	r1.Sysctl("net.ipv4.fib_multipath_hash_policy=1")
	ipBatch(t, "", "link add right netns "+c.Name+" type veth peer name left netns "+r1.Name+"\n"+
		"link add pa netns "+r1.Name+" type veth peer name left netns "+ra.Name+"\n"+
		"link add pb netns "+r1.Name+" type veth peer name left netns "+rb.Name+"\n"+
		"link add right netns "+ra.Name+" type veth peer name pa netns "+r2.Name+"\n"+
		"link add right netns "+rb.Name+" type veth peer name pb netns "+r2.Name+"\n"+
		"link add right netns "+r2.Name+" type veth peer name left netns "+s.Name+"\n")
	ipBatch(t, c.Name, "addr add 198.51.100.1/30 dev right\nlink set right up\nroute add default via 198.51.100.2\n")
	ipBatch(t, r1.Name, "addr add 198.51.100.2/30 dev left\naddr add 198.51.100.5/30 dev pa\naddr add 198.51.100.9/30 dev pb\n"+
		"link set left up\nlink set pa up\nlink set pb up\n"+
		"route add 198.51.100.0/24 nexthop via 198.51.100.6 nexthop via 198.51.100.10\n")
	ipBatch(t, ra.Name, "addr add 198.51.100.6/30 dev left\naddr add 198.51.100.13/30 dev right\nlink set left up\nlink set right up\n"+
		"route add 198.51.100.0/30 via 198.51.100.5\nroute add 198.51.100.20/30 via 198.51.100.14\n")
	ipBatch(t, rb.Name, "addr add 198.51.100.10/30 dev left\naddr add 198.51.100.17/30 dev right\nlink set left up\nlink set right up\n"+
		"route add 198.51.100.0/30 via 198.51.100.9\nroute add 198.51.100.20/30 via 198.51.100.18\n")
	ipBatch(t, r2.Name, "addr add 198.51.100.14/30 dev pa\naddr add 198.51.100.18/30 dev pb\naddr add 198.51.100.21/30 dev right\n"+
		"link set pa up\nlink set pb up\nlink set right up\nroute add 198.51.100.0/30 via 198.51.100.13\n")
	ipBatch(t, s.Name, "addr add 198.51.100.22/30 dev left\nlink set left up\nroute add default via 198.51.100.21\n")
	dst := netip.MustParseAddr("198.51.100.22")
	(&chain{nodes: []*probetest.Netns{c}}).waitPath(t, dst)
	ra1, rb1 := netip.MustParseAddr("198.51.100.6"), netip.MustParseAddr("198.51.100.10")

	res := runIn(t, c, dst, Options{Method: UDP, Rounds: 10, Queries: 1, Interval: time.Millisecond})
	if !res.Reached || len(res.Hops) != 4 {
		t.Fatalf("one flow: reached=%v\n%s", res.Reached, hopList(res))
	}
	if h := res.Hops[1]; len(h.Addrs) != 1 || h.Received != 10 || (h.Addrs[0].Addr != ra1 && h.Addrs[0].Addr != rb1) {
		t.Errorf("one flow, 10 rounds: hop 2 %+v, want one of ra and rb every time", h.Addrs)
	}

	// 16 flows: the chance that they all hash to one side is 2^-15.
	res = runIn(t, c, dst, Options{Method: UDP, Flows: 16, Queries: 1})
	if !res.Reached || len(res.Hops) != 4 {
		t.Fatalf("16 flows: reached=%v\n%s", res.Reached, hopList(res))
	}
	h := res.Hops[1]
	seen := map[netip.Addr]float64{}
	for _, a := range h.Addrs {
		seen[a.Addr] = a.Share
	}
	if len(h.Addrs) != 2 || seen[ra1] == 0 || seen[rb1] == 0 || seen[ra1]+seen[rb1] < 0.999 || h.Received != 16 {
		t.Errorf("16 flows: hop 2 %+v, want ra and rb with shares adding up to 1", h.Addrs)
	}
}
