package resolve

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nettool/nettool/probe"
)

// Transport is how a query travels.
type Transport string

const (
	UDP   Transport = "udp"   // UDP, retried over TCP when the answer is truncated
	TCP   Transport = "tcp"   // plain TCP
	TLS   Transport = "tls"   // DNS over TLS, RFC 7858
	HTTPS Transport = "https" // DNS over HTTPS, RFC 8484
)

// DefaultPort is the port a transport uses when the address names none.
func DefaultPort(t Transport) int {
	switch t {
	case TLS:
		return 853
	case HTTPS:
		return 443
	}
	return 53
}

// Server is a parsed server address.
type Server struct {
	Transport Transport
	Host      string // a name or an IP address (IPv6 without brackets, zone kept)
	Port      int
	URL       string // DoH only: the full URL
}

// String renders the server for people and JSON: "127.0.0.1:53" for UDP,
// "tcp://[::1]:53", "tls://dns.example:853", the URL for DoH.
func (s Server) String() string {
	if s.Transport == HTTPS {
		return s.URL
	}
	hp := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	if s.Transport == UDP {
		return hp
	}
	return string(s.Transport) + "://" + hp
}

// HostPort is host:port for dialling.
func (s Server) HostPort() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// ParseServer reads a server address: "1.2.3.4", "1.2.3.4:5353", "[::1]:53",
// "::1", "fe80::1%eth0", "host", "udp://..", "tcp://..", "tls://host[:853]",
// "https://host[:port]/path". A leading "@" (dig style) is allowed. Every
// problem is a usage error.
func ParseServer(s string) (Server, error) {
	in := s
	s = strings.TrimPrefix(s, "@")
	if s == "" {
		return Server{}, probe.Usagef("bad server %q: empty address", in)
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		t := Transport(strings.ToLower(scheme))
		switch t {
		case UDP, TCP, TLS:
			rest = strings.TrimSuffix(rest, "/")
			return parseHostServer(in, rest, t)
		case HTTPS:
			return parseDoH(in, s)
		case "http":
			return Server{}, probe.Usagef("bad server %q: DNS over plain http is not supported, use https://", in)
		default:
			return Server{}, probe.Usagef("bad server %q: unknown scheme %q (want udp, tcp, tls or https)", in, scheme)
		}
	}
	return parseHostServer(in, s, UDP)
}

func parseHostServer(in, s string, t Transport) (Server, error) {
	hp, err := probe.ParseHostPort(s, DefaultPort(t))
	if err != nil {
		return Server{}, probe.Usagef("bad server %q: %v", in, strings.TrimPrefix(err.Error(), "bad address "+strconvQuote(s)+": "))
	}
	if err := checkHost(hp.Host); err != nil {
		return Server{}, probe.Usagef("bad server %q: %v", in, err)
	}
	return Server{Transport: t, Host: hp.Host, Port: hp.Port}, nil
}

func strconvQuote(s string) string { return strconv.Quote(s) }

func parseDoH(in, s string) (Server, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil {
		return Server{}, probe.Usagef("bad server %q: want https://host[:port]/path", in)
	}
	host := u.Hostname()
	port := DefaultPort(HTTPS)
	if p := u.Port(); p != "" {
		n, err := probe.ParsePort(p)
		if err != nil {
			return Server{}, probe.Usagef("bad server %q: %v", in, err)
		}
		port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return Server{}, probe.Usagef("bad server %q: empty port", in)
	}
	if err := checkHost(host); err != nil {
		return Server{}, probe.Usagef("bad server %q: %v", in, err)
	}
	if u.Path == "" {
		u.Path = "/dns-query"
	}
	u.Fragment = ""
	return Server{Transport: HTTPS, Host: host, Port: port, URL: u.String()}, nil
}

// checkHost accepts an IP address or a host name made of letters, digits,
// hyphens, underscores and dots.
func checkHost(h string) error {
	if h == "" {
		return probe.Usagef("empty host")
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	if strings.Contains(h, ":") {
		return probe.Usagef("%q is not an IP address", h)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c == '-' || c == '.' || c == '_' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
			return probe.Usagef("bad host name %q: a host name has only letters, digits, hyphens and dots", h)
		}
	}
	if err := CheckName(h); err != nil {
		return err
	}
	// Only a real host name goes to the system's resolver. Numbers with
	// dots that are not an IP address (999.1.1.1, 1.2.3, 0x7f.1, 127.1)
	// are a mistyped address: inet_aton would read some of them as an
	// address and a resolver would be asked about the others. A host name
	// never ends in an all-numeric label (RFC 1123 section 2.1, RFC 3696
	// section 2).
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	numeric := true
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return probe.Usagef("bad host name %q: a label starts or ends with a hyphen", h)
		}
		if !isAllDigits(l) && !isHexNumber(l) {
			numeric = false
		}
	}
	if numeric || isAllDigits(labels[len(labels)-1]) {
		return probe.Usagef("%q is not a valid IP address (want 4 numbers 0-255 for IPv4, e.g. 192.0.2.1) nor a host name", h)
	}
	return nil
}

// isHexNumber: "0x1f", as inet_aton reads a number.
func isHexNumber(s string) bool {
	r, ok := strings.CutPrefix(strings.ToLower(s), "0x")
	if !ok {
		return false
	}
	for i := 0; i < len(r); i++ {
		if !isDigit(r[i]) && (r[i] < 'a' || r[i] > 'f') {
			return false
		}
	}
	return true
}

// Dial addresses: a server named by host name is resolved once, through the
// system's resolver (for a name in /etc/hosts such as localhost, no query is
// sent).
//
// It asks over one IP version when family is 4 or 6 (0: any): a host name
// is looked up in it, an address of the other version is refused.
func (s Server) resolveAddr(ctx context.Context, family int) (string, error) {
	if a, err := netip.ParseAddr(s.Host); err == nil {
		if err := CheckFamily(a, family); err != nil {
			return "", err
		}
		return s.HostPort(), nil
	}
	network := "ip"
	switch family {
	case 4:
		network = "ip4"
	case 6:
		network = "ip6"
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, s.Host)
	if err != nil {
		return "", err
	}
	if len(addrs) == 0 {
		return "", &net.DNSError{Err: "no address", Name: s.Host, IsNotFound: true}
	}
	return net.JoinHostPort(addrs[0].Unmap().String(), strconv.Itoa(s.Port)), nil
}

// CheckFamily says why address a cannot be asked when only IP version
// family (4 or 6) is; nil when it can (always with family 0).
func CheckFamily(a netip.Addr, family int) error {
	is4 := a.Unmap().Is4()
	switch {
	case family == 4 && !is4:
		return fmt.Errorf("%s is an IPv6 address, and only IPv4 is asked (-4)", a)
	case family == 6 && is4:
		return fmt.Errorf("%s is an IPv4 address, and only IPv6 is asked (-6)", a)
	}
	return nil
}

// familyDialer dials TCP over one IP version (4 or 6); nil (the default
// dialer) for 0.
func familyDialer(family int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if family != 4 && family != 6 {
		return nil
	}
	nw := "tcp4"
	if family == 6 {
		nw = "tcp6"
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, _, addr string) (net.Conn, error) { return d.DialContext(ctx, nw, addr) }
}
