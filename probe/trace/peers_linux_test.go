//go:build linux

package trace

import (
	"context"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// nft loads a ruleset into ns, flushed again when the (sub)test ends.
func nft(t *testing.T, ns *probetest.Netns, rules string) {
	t.Helper()
	nftBin := probetest.LookPeer(t, "nft")
	cmd := ns.Command(context.Background(), nftBin, "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s\n%s", err, rules, out)
	}
	t.Cleanup(func() { _ = ns.Command(context.Background(), nftBin, "flush", "ruleset").Run() })
}

var (
	reTraceroute = regexp.MustCompile(`^\s*(\d+)\s+(.*)$`)
	reMtr        = regexp.MustCompile(`^\s*(\d+)\.\|--\s+(\S+)`)
	reTracepath  = regexp.MustCompile(`^\s*(\d+)\??:\s+(\S+)`)
)

// peerHops turns a peer tool's output into hopList's form.
func peerHops(tool, out string) string {
	var b strings.Builder
	last := 0
	for _, line := range strings.Split(out, "\n") {
		var ttl int
		addr := "*"
		switch tool {
		case "traceroute":
			m := reTraceroute.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			ttl, _ = strconv.Atoi(m[1])
			for _, f := range strings.Fields(m[2]) {
				if _, err := netip.ParseAddr(f); err == nil {
					addr = f
					break
				}
			}
		case "mtr":
			m := reMtr.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			ttl, _ = strconv.Atoi(m[1])
			if m[2] != "???" {
				addr = m[2]
			}
		case "tracepath":
			m := reTracepath.FindStringSubmatch(line)
			if m == nil || m[2] == "[LOCALHOST]" {
				continue
			}
			ttl, _ = strconv.Atoi(m[1])
			if _, err := netip.ParseAddr(m[2]); err == nil {
				addr = m[2]
			}
		}
		if ttl <= last {
			continue // tracepath repeats a hop when the MTU changes
		}
		last = ttl
		b.WriteString(strconv.Itoa(ttl) + " " + addr + "\n")
	}
	return b.String()
}

func runPeer(t *testing.T, ns *probetest.Netns, name string, args ...string) string {
	t.Helper()
	bin := probetest.LookPeer(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := ns.Command(ctx, bin, args...).CombinedOutput()
	if err != nil && ctx.Err() != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func wantHops(v6 bool, n int) string {
	var b strings.Builder
	for k := 1; k <= n; k++ {
		b.WriteString(strconv.Itoa(k) + " " + hopAddr(k, v6).String() + "\n")
	}
	return b.String()
}

// TestChain runs every check that needs the client - r1 - r2 - r3 - server
// chain on one chain: building it is most of the time.
func TestChain(t *testing.T) {
	c := newChain(t, 3)
	fams := []struct {
		name string
		v6   bool
	}{{"ipv4", false}, {"ipv6", true}}

	t.Run("peers", func(t *testing.T) {
		for _, f := range fams {
			dst := c.dest(f.v6)
			want := wantHops(f.v6, 4)
			fam := "-4"
			if f.v6 {
				fam = "-6"
			}
			for _, m := range []Method{ICMP, UDP, TCP} {
				res := runIn(t, c.client(), dst, Options{Method: m})
				if got := hopList(res); got != want || !res.Reached || res.DestTTL != 4 {
					t.Errorf("%s %s: reached=%v at %d, hops\n%s want\n%s", f.name, m, res.Reached, res.DestTTL, got, want)
				}
			}
			peers := []struct {
				tool string
				args []string
			}{
				{"traceroute", []string{fam, "-n", "-q", "1", "-w", "2", dst.String()}},
				{"traceroute", []string{fam, "-I", "-n", "-q", "1", "-w", "2", dst.String()}},
				{"mtr", []string{fam, "-n", "--report", "-c", "3", "-i", "0.1", "-G", "1", dst.String()}},
				{"tracepath", []string{fam, "-n", dst.String()}},
			}
			for _, p := range peers {
				out := runPeer(t, c.client(), p.tool, p.args...)
				if got := peerHops(p.tool, out); got != want {
					t.Errorf("%s %s %v gives\n%s want (nettool's)\n%s\noutput:\n%s", f.name, p.tool, p.args, got, want, out)
				}
			}
		}
	})

	t.Run("silent hop", func(t *testing.T) {
		nft(t, c.router(2), `table inet silent {
	chain out {
		type filter hook output priority 0;
		icmp type time-exceeded drop
		icmpv6 type time-exceeded drop
	}
}`)
		for _, f := range fams {
			want := strings.Replace(wantHops(f.v6, 4), "2 "+hopAddr(2, f.v6).String(), "2 *", 1)
			for _, m := range []Method{ICMP, UDP, TCP} {
				res := runIn(t, c.client(), c.dest(f.v6), Options{Method: m, Wait: 20 * time.Second})
				if got := hopList(res); got != want || !res.Reached {
					t.Errorf("%s %s: reached=%v, hops\n%s want\n%s", f.name, m, res.Reached, got, want)
				}
				// The silent hop is given up once later hops answered,
				// long before the 20 s wait.
				if res.Elapsed > 10*time.Second {
					t.Errorf("%s %s: took %v: the silent hop was waited for in full", f.name, m, res.Elapsed)
				}
				if h := res.Hops[1]; h.Sent != 3 || h.Received != 0 || h.Loss != 100 {
					t.Errorf("%s %s: silent hop %+v", f.name, m, h)
				}
			}
			fam := "-4"
			if f.v6 {
				fam = "-6"
			}
			out := runPeer(t, c.client(), "traceroute", fam, "-I", "-n", "-q", "1", "-w", "1", c.dest(f.v6).String())
			if got := peerHops("traceroute", out); got != want {
				t.Errorf("%s traceroute -I gives\n%s want\n%s", f.name, got, want)
			}
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		cases := []struct {
			v6     bool
			reject string
			mark   string
		}{
			{false, "icmp type host-unreachable", "!H"},
			{false, "icmp type net-unreachable", "!N"},
			{false, "icmp type prot-unreachable", "!P"},
			{false, "icmp type admin-prohibited", "!X"},
			{true, "icmpv6 type no-route", "!N"},
			{true, "icmpv6 type addr-unreachable", "!H"},
			{true, "icmpv6 type admin-prohibited", "!X"},
		}
		for _, tc := range cases {
			t.Run(tc.mark, func(t *testing.T) {
				fam := "ip"
				if tc.v6 {
					fam = "ip6"
				}
				dst := c.dest(tc.v6)
				nft(t, c.router(2), `table inet unreach {
	chain forward {
		type filter hook forward priority 0;
		`+fam+` daddr `+dst.String()+` reject with `+tc.reject+`
	}
}`)
				// r2 rejects what it would forward: probes that reach it
				// with a TTL left (TTL 3 and up) get the unreachable.
				res := runIn(t, c.client(), dst, Options{})
				if res.Reached || len(res.Hops) != 3 {
					t.Fatalf("%s: reached=%v, hops\n%s", tc.reject, res.Reached, hopList(res))
				}
				h := res.Hops[2]
				if h.Marks[tc.mark] != 3 || len(h.Addrs) != 1 || h.Addrs[0].Addr != hopAddr(2, tc.v6) {
					t.Errorf("%s: hop 3 %v marks %v, want %s from %s", tc.reject, h.Addrs, h.Marks, tc.mark, hopAddr(2, tc.v6))
				}
			})
		}
	})

	t.Run("loss", func(t *testing.T) {
		// A third of what r2 forwards towards r3 is dropped: hops 3 and 4
		// lose probes, hops 1 and 2 none.
		nft(t, c.router(2), `table inet lossy {
	chain forward {
		type filter hook forward priority 0;
		oifname "right" numgen random mod 3 == 0 drop
	}
}`)
		res := runIn(t, c.client(), c.dest(false), Options{Rounds: 40, Queries: 1, Interval: time.Millisecond, InFlight: 64, Wait: time.Second})
		if !res.Reached || len(res.Hops) != 4 {
			t.Fatalf("reached=%v hops\n%s", res.Reached, hopList(res))
		}
		for _, h := range res.Hops {
			if h.Sent != 40 {
				t.Errorf("hop %d: sent %d, want 40", h.TTL, h.Sent)
			}
		}
		for _, h := range res.Hops[:2] {
			if h.Loss != 0 {
				t.Errorf("hop %d before the lossy link lost %.1f%%", h.TTL, h.Loss)
			}
		}
		for _, h := range res.Hops[2:] {
			if h.Loss == 0 || h.Loss == 100 {
				t.Errorf("hop %d after the lossy link lost %.1f%%, want some", h.TTL, h.Loss)
			}
		}
	})
	// Last: it changes an MTU. The link from r2 to r3 has an MTU of 1400. A
	// probe that gets to r2 with TTL left (TTL 3) is too big for it:
	// tracepath shows the pmtu at hop 3, and so must trace.
	t.Run("pmtu", func(t *testing.T) {
		c.router(2).IP("link", "set", "right", "mtu", "1400")
		c.router(3).IP("link", "set", "left", "mtu", "1400")
		rePmtu := regexp.MustCompile(`(?m)^\s*(\d+):\s+(\S+)\s+.*pmtu (\d+)`)
		for _, v6 := range []bool{false, true} {
			fam := "-4"
			if v6 {
				fam = "-6"
			}
			dst := c.dest(v6)
			// tracepath first: the kernel's learnt path MTU must not matter
			// to either.
			out := runPeer(t, c.client(), "tracepath", fam, "-n", dst.String())
			m := rePmtu.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no pmtu line from tracepath:\n%s", out)
			}
			for _, meth := range []Method{ICMP, UDP} {
				res := runIn(t, c.client(), dst, Options{Method: meth, PMTU: true})
				if !res.Reached || res.PMTU != 1400 || len(res.Hops) != 4 || res.Elapsed > 2*time.Second {
					t.Fatalf("%s %s: reached=%v pmtu %d in %v (no probe may be lost)\n%s", fam, meth, res.Reached, res.PMTU, res.Elapsed, hopList(res))
				}
				var at []string
				for _, h := range res.Hops {
					if h.MTU > 0 {
						at = append(at, strconv.Itoa(h.TTL)+" "+h.MTUFrom.String()+" "+strconv.Itoa(h.MTU))
					}
				}
				if want := m[1] + " " + m[2] + " " + m[3]; len(at) != 1 || at[0] != want {
					t.Errorf("%s %s: pmtu drops at %v, tracepath says %q:\n%s", fam, meth, at, want, out)
				}
				if want := wantHops(v6, 4); hopList(res) != want {
					t.Errorf("%s %s: hops\n%s want\n%s", fam, meth, hopList(res), want)
				}
			}
		}
	})
}
