package tcp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/nettool/nettool/probe"
)

// MaxScanHosts caps how many addresses the CIDR blocks of one scan may hold
// (a /16 of IPv4). A bigger sweep is a job for a dedicated scanner.
const MaxScanHosts = 1 << 16

// MaxScanProbes caps hosts x ports for one run.
const MaxScanProbes = 1 << 24

// Target is one scan target: a host name to resolve, or a block of addresses
// (a single address is a /32 or /128 block).
type Target struct {
	Input  string       // as the user wrote it
	Name   string       // a host name to resolve; empty for addresses
	Prefix netip.Prefix // valid when Name is empty
}

// ParseTarget reads a scan target: a host name, an IPv4 or IPv6 address, or a
// CIDR block such as 192.168.1.0/24. Every problem is a *probe.UsageError.
func ParseTarget(s string) (Target, error) {
	if s == "" {
		return Target{}, probe.Usagef("empty target")
	}
	if len(s) > 255 {
		return Target{}, probe.Usagef("bad target %q: too long", s[:40]+"...")
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Target{}, probe.Usagef("bad CIDR block %q", s)
		}
		if size := prefixSize(p); size > MaxScanHosts {
			return Target{}, probe.Usagef("CIDR block %s holds too many addresses (at most %d per run, a /16 of IPv4)", p, MaxScanHosts)
		}
		return Target{Input: s, Prefix: p.Masked()}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return Target{Input: s, Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	if strings.Contains(s, ":") {
		return Target{}, probe.Usagef("bad target %q (give the port with -p, or use HOST:PORT without -p)", s)
	}
	if err := checkHostName(s); err != nil {
		return Target{}, err
	}
	return Target{Input: s, Name: strings.TrimSuffix(s, ".")}, nil
}

// checkHostName rejects what cannot be a DNS name: empty labels, labels over
// 63 bytes, names over 253, characters outside letters, digits, '-' and '_'.
func checkHostName(s string) error {
	name := strings.TrimSuffix(s, ".")
	if name == "" || len(name) > 253 {
		return probe.Usagef("bad host name %q", s)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return probe.Usagef("bad host name %q: empty or over-long label", s)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return probe.Usagef("bad host name %q", s)
			}
		}
	}
	return nil
}

// prefixSize is the number of addresses in p, saturated above MaxScanHosts.
func prefixSize(p netip.Prefix) int {
	host := p.Addr().BitLen() - p.Bits()
	if host > 24 {
		return MaxScanHosts + 1
	}
	return 1 << host
}

// Size is the number of addresses the target stands for (1 for a name).
func (t Target) Size() int {
	if t.Name != "" {
		return 1
	}
	return prefixSize(t.Prefix)
}

// Addrs lists the addresses of a block in order (nmap-style: network and
// broadcast addresses included).
func (t Target) Addrs() []netip.Addr {
	n := t.Size()
	out := make([]netip.Addr, 0, n)
	a := t.Prefix.Addr()
	for i := 0; i < n; i++ {
		out = append(out, a)
		a = a.Next()
	}
	return out
}

// ParseConnectTarget reads HOST:PORT (or [v6]:PORT) for a connect test.
func ParseConnectTarget(s string) (probe.HostPort, error) {
	hp, err := probe.ParseHostPort(s, 0)
	if err != nil {
		return hp, err
	}
	if hp.Port == 0 {
		return hp, probe.Usagef("target %q has no port: write HOST:PORT, or scan with -p PORTS", s)
	}
	if _, err := netip.ParseAddr(hp.Host); err != nil {
		if err := checkHostName(hp.Host); err != nil {
			return hp, err
		}
	}
	return hp, nil
}

// Family restricts name resolution: "ip" (both), "ip4" or "ip6".
type Family string

// Resolve turns a host (name or literal) into addresses of the family,
// IPv4 first, within timeout.
func Resolve(ctx context.Context, host string, fam Family, timeout time.Duration) ([]netip.Addr, error) {
	if fam == "" {
		fam = "ip"
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if (fam == "ip4" && !a.Unmap().Is4()) || (fam == "ip6" && a.Unmap().Is4()) {
			return nil, fmt.Errorf("%s is not an %s address", host, map[Family]string{"ip4": "IPv4", "ip6": "IPv6"}[fam])
		}
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, string(fam), host)
	if err != nil {
		return nil, err
	}
	var v4, v6 []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	out := append(v4, v6...)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no %s address", host, fam)
	}
	return out, nil
}
