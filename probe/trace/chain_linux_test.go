//go:build linux

package trace

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
	"golang.org/x/sys/unix"
)

// chain is client - r1 - ... - rN - server in namespaces. Link i joins
// node i and node i+1 (node 0 is the client): 198.51.100.4i+1/30 on node
// i, .4i+2 on node i+1; 2001:db8:i::1 and ::2. A router answers from the
// address of the link the probe came in on, so hop k is .4(k-1)+2.
type chain struct {
	nodes []*probetest.Netns // client, routers..., server
}

func (c *chain) client() *probetest.Netns { return c.nodes[0] }
func (c *chain) server() *probetest.Netns { return c.nodes[len(c.nodes)-1] }
func (c *chain) router(k int) *probetest.Netns { return c.nodes[k] }

func linkAddr(i, side int, v6 bool) netip.Addr {
	if v6 {
		return netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::%d", i, side))
	}
	return netip.MustParseAddr(fmt.Sprintf("198.51.100.%d", 4*i+side))
}

// hopAddr is the address hop k (from 1) answers from.
func hopAddr(k int, v6 bool) netip.Addr { return linkAddr(k-1, 2, v6) }

// dest is the server's address.
func (c *chain) dest(v6 bool) netip.Addr { return linkAddr(len(c.nodes)-2, 2, v6) }

func newChain(t *testing.T, routers int) *chain {
	t.Helper()
	c := &chain{}
	c.nodes = append(c.nodes, probetest.NewNetns(t, "trace-c"))
	for k := 1; k <= routers; k++ {
		r := probetest.NewNetns(t, fmt.Sprintf("trace-r%d", k))
		r.Sysctl("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
		c.nodes = append(c.nodes, r)
	}
	c.nodes = append(c.nodes, probetest.NewNetns(t, "trace-s"))
	links := len(c.nodes) - 1
	for i := 0; i < links; i++ {
		a, b := c.nodes[i], c.nodes[i+1]
		probetest.Veth(t, a, "right", b, "left")
		a.IP("addr", "add", linkAddr(i, 1, false).String()+"/30", "dev", "right")
		b.IP("addr", "add", linkAddr(i, 2, false).String()+"/30", "dev", "left")
		a.IP("-6", "addr", "add", linkAddr(i, 1, true).String()+"/64", "dev", "right", "nodad")
		b.IP("-6", "addr", "add", linkAddr(i, 2, true).String()+"/64", "dev", "left", "nodad")
	}
	// Routes: everything left of node n goes left, everything right goes right.
	for n, ns := range c.nodes {
		for i := 0; i < links; i++ {
			if i == n || i == n-1 {
				continue // connected
			}
			for _, v6 := range []bool{false, true} {
				pfx := linkAddr(i, 0, false).String() + "/30"
				fam := "-4"
				if v6 {
					pfx, fam = fmt.Sprintf("2001:db8:%x::/64", i), "-6"
				}
				via := linkAddr(n, 2, v6) // right neighbour
				if i < n {
					via = linkAddr(n-1, 1, v6) // left neighbour
				}
				ns.IP(fam, "route", "add", pfx, "via", via.String())
			}
		}
	}
	// Both families must cross the whole path before a test starts.
	for _, v6 := range []bool{false, true} {
		c.waitPath(t, c.dest(v6))
	}
	return c
}

func (c *chain) waitPath(t *testing.T, dst netip.Addr) {
	t.Helper()
	ping := probetest.LookPeer(t, "ping")
	var out []byte
	var err error
	for try := 0; try < 20; try++ {
		out, err = c.client().Command(context.Background(), ping, "-n", "-c", "1", "-W", "1", dst.String()).CombinedOutput()
		if err == nil {
			return
		}
	}
	t.Fatalf("path to %s not up: %v\n%s", dst, err, out)
}

// inNetns runs f on an OS thread inside ns. The thread is thrown away
// afterwards (the goroutine exits locked), so no other goroutine ever runs
// in the namespace by accident. Sockets opened by f, even later by the
// trace's own sends, are in ns: the scheduler runs on this thread.
func inNetns(t *testing.T, ns *probetest.Netns, f func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := os.Open("/run/netns/" + ns.Name)
		if err != nil {
			done <- err
			return
		}
		defer fd.Close()
		if err := unix.Setns(int(fd.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		f()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("enter %s: %v", ns.Name, err)
	}
}

// runIn traces dst from inside ns.
func runIn(t *testing.T, ns *probetest.Netns, dst netip.Addr, o Options) Result {
	t.Helper()
	var res Result
	var err error
	inNetns(t, ns, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err = Run(ctx, dst, o)
	})
	if err != nil {
		t.Fatalf("Run %s: %v", dst, err)
	}
	return res
}

// hopList is the trace as "ttl addr" lines ("ttl *" for a silent hop), the
// form every peer tool's output is turned into.
func hopList(res Result) string {
	var b strings.Builder
	for _, h := range res.Hops {
		var addrs []string
		for _, a := range h.Addrs {
			addrs = append(addrs, a.Addr.String())
		}
		if len(addrs) == 0 {
			addrs = []string{"*"}
		}
		fmt.Fprintf(&b, "%d %s\n", h.TTL, strings.Join(addrs, ","))
	}
	return b.String()
}

func TestChainICMPQuick(t *testing.T) {
	t0 := time.Now()
	c := newChain(t, 3)
	t.Logf("chain %v", time.Since(t0))
	for _, v6 := range []bool{false, true} {
		res := runIn(t, c.client(), c.dest(v6), Options{Wait: 2 * time.Second})
		t.Logf("%+v %v\n%s", res.Socket, res.Elapsed, hopList(res))
		if !res.Reached || res.DestTTL != 4 {
			t.Errorf("v6=%v: reached %v at %d, want 4", v6, res.Reached, res.DestTTL)
		}
	}
}
