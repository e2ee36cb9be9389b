package ping

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nettool/nettool/probe"
)

// Family restricts the addresses pinged.
type Family int

const (
	FamilyAny Family = 0
	FamilyV4  Family = 4
	FamilyV6  Family = 6
)

// Host is one host argument, parsed.
type Host struct {
	Name string     // as given (brackets removed)
	Addr netip.Addr // set when the argument is an address literal
}

// ParseHost checks one host argument: an IPv4 or IPv6 address (with a zone,
// or in brackets) or a host name. A port is refused: ping has none.
func ParseHost(s string, fam Family) (Host, error) {
	if s == "" {
		return Host{}, probe.Usagef("empty host")
	}
	orig := s
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		if fam == FamilyV4 && !a.Is4() {
			return Host{}, probe.Usagef("%s is an IPv6 address but -4 was given", quote(orig))
		}
		if fam == FamilyV6 && a.Is4() {
			return Host{}, probe.Usagef("%s is an IPv4 address but -6 was given", quote(orig))
		}
		if a.Is4() && a.Zone() != "" {
			return Host{}, probe.Usagef("bad address %s", quote(orig))
		}
		return Host{Name: s, Addr: a}, nil
	}
	if strings.Count(s, ":") == 1 && !strings.HasPrefix(orig, "[") {
		return Host{}, probe.Usagef("bad host %s: ping takes a host, not host:port (for a TCP port, use nettool tcp)", quote(orig))
	}
	if err := checkHostname(s); err != nil {
		return Host{}, probe.Usagef("bad host %s: %v", quote(orig), err)
	}
	return Host{Name: s}, nil
}

// checkHostname applies the rules of RFC 1123 host names (with "_" allowed,
// as resolvers do): labels of 1-63 letters, digits, "-" or "_", at most 253
// bytes, an optional final dot.
func checkHostname(s string) error {
	n := strings.TrimSuffix(s, ".")
	if n == "" {
		return errors.New("empty name")
	}
	if len(n) > 253 {
		return errors.New("name longer than 253 bytes")
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" {
			return errors.New("empty label")
		}
		if len(label) > 63 {
			return errors.New("label longer than 63 bytes")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			case c == '-' && i > 0 && i < len(label)-1:
			default:
				return fmt.Errorf("character %q not allowed in a host name", c)
			}
		}
	}
	return nil
}

// ParseHosts parses every host argument.
func ParseHosts(args []string, fam Family) ([]Host, error) {
	if len(args) == 0 {
		return nil, probe.Usagef("no host given (usage: nettool ping [flags] HOST...)")
	}
	if len(args) > MaxHosts {
		return nil, probe.Usagef("too many hosts (%d, at most %d)", len(args), MaxHosts)
	}
	hosts := make([]Host, 0, len(args))
	for _, a := range args {
		h, err := ParseHost(a, fam)
		if err != nil {
			return nil, err
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// ResolveError is a host name that did not resolve.
type ResolveError struct {
	Name string
	Err  error
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("cannot resolve %s: %v", quote(e.Name), e.Err)
}
func (e *ResolveError) Unwrap() error { return e.Err }

// Resolve turns hosts into targets. Names are looked up concurrently through
// r (nil: the system's resolver), each with timeout; the first address of
// the family asked is taken, IPv4 first when no family is asked.
func Resolve(ctx context.Context, r *net.Resolver, hosts []Host, fam Family, timeout time.Duration) ([]Target, error) {
	out, errs := ResolveEach(ctx, r, hosts, fam, timeout)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ResolveEach is Resolve that keeps going: errs[i] is the error of
// hosts[i] (nil when out[i] holds its address), so one name that does not
// resolve does not stop the others, as in fping.
func ResolveEach(ctx context.Context, r *net.Resolver, hosts []Host, fam Family, timeout time.Duration) (out []Target, errs []error) {
	if r == nil {
		r = net.DefaultResolver
	}
	out = make([]Target, len(hosts))
	errs = make([]error, len(hosts))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, h := range hosts {
		if h.Addr.IsValid() {
			out[i] = Target(h)
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a, err := lookup(ctx, r, h.Name, fam, timeout)
			out[i], errs[i] = Target{Name: h.Name, Addr: a}, err
		}()
	}
	wg.Wait()
	return out, errs
}

func lookup(ctx context.Context, r *net.Resolver, name string, fam Family, timeout time.Duration) (netip.Addr, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	network := "ip"
	switch fam {
	case FamilyV4:
		network = "ip4"
	case FamilyV6:
		network = "ip6"
	}
	addrs, err := r.LookupNetIP(ctx, network, name)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return netip.Addr{}, ctx.Err()
		}
		var de *net.DNSError
		if errors.As(err, &de) {
			err = errors.New(de.Err)
			if de.IsNotFound {
				err = errors.New("no such host")
			}
		}
		return netip.Addr{}, &ResolveError{Name: name, Err: err}
	}
	for _, a := range addrs {
		if a.Unmap().Is4() {
			return a.Unmap(), nil
		}
	}
	if len(addrs) > 0 && fam != FamilyV4 {
		return addrs[0], nil
	}
	return netip.Addr{}, &ResolveError{Name: name, Err: errors.New("no address of the family asked")}
}

func quote(s string) string { return strconv.Quote(s) }

// maxTimeFlag bounds every time flag (30 days).
const maxTimeFlag = 30 * 24 * time.Hour

// ParseSeconds reads a time flag as iputils does, in seconds with a
// fraction ("0.2", "1", "1.5"), or as a Go duration ("200ms", "1m").
func ParseSeconds(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, probe.Usagef("empty time value")
	}
	var d time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXpPnNiI_") {
		if f < 0 || f > maxTimeFlag.Seconds() {
			return 0, probe.Usagef("bad time %s (want 0 to %v)", quote(s), maxTimeFlag)
		}
		d = time.Duration(f * float64(time.Second))
		if f > 0 && d == 0 {
			return 0, probe.Usagef("bad time %s (under a nanosecond)", quote(s))
		}
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, probe.Usagef("bad time %s (seconds like 0.5, or a duration like 200ms)", quote(s))
		}
		if d < 0 || d > maxTimeFlag {
			return 0, probe.Usagef("bad time %s (want 0 to %v)", quote(s), maxTimeFlag)
		}
	}
	return d, nil
}
