package ipinfo

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// Method is how a provider is asked.
type Method string

// Methods.
const (
	MethodHTTP  Method = "http"  // plain-text body over HTTP (no TLS: can be forged on the path)
	MethodHTTPS Method = "https" // plain-text body over HTTPS
	MethodDNS   Method = "dns"   // a DNS query whose answer is the client's address (UDP, TCP on truncation)
)

// Provider is one external-address source, parsed from a spec:
//
//	https://host/path, http://host:port/path   a plain-text endpoint
//	dns:NAME[/CLASS][/TYPE]@SERVER[,SERVER...]  a DNS method
//
// For DNS, TYPE is A, AAAA or TXT (default: A for IPv4, AAAA for IPv6),
// CLASS is IN (default) or CH; SERVER is an address or a name with an
// optional port (1.1.1.1, 127.0.0.1:5353, [::1]:5353, ns1.google.com). Of
// several servers the first usable in the asked family is used, so one spec
// can name an IPv4 and an IPv6 server.
type Provider struct {
	Spec    string
	Method  Method
	URL     *url.URL // http and https
	Name    string   // dns: the query name, fully qualified
	Qtype   uint16   // dns: 0 means A or AAAA by family
	Qclass  uint16   // dns
	Servers []probe.HostPort
}

// MaxSpecLen bounds a provider spec.
const MaxSpecLen = 2048

// ParseProvider parses a provider spec. Every problem is a *probe.UsageError
// (exit 2).
func ParseProvider(spec string) (Provider, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return Provider{}, probe.Usagef("empty provider")
	}
	if len(s) > MaxSpecLen {
		return Provider{}, probe.Usagef("provider spec longer than %d bytes", MaxSpecLen)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return Provider{}, probe.Usagef("bad provider %q: control character or space", spec)
		}
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return parseHTTPProvider(s)
	case strings.HasPrefix(lower, "dns:"):
		return parseDNSProvider(s)
	}
	return Provider{}, probe.Usagef("bad provider %q: want http://..., https://... or dns:NAME[/CLASS][/TYPE]@SERVER", spec)
}

func parseHTTPProvider(s string) (Provider, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Provider{}, probe.Usagef("bad provider URL %q: %v", s, unwrapURLError(err))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Host == "" || u.Hostname() == "" {
		return Provider{}, probe.Usagef("bad provider URL %q: no host", s)
	}
	if u.User != nil {
		return Provider{}, probe.Usagef("bad provider URL %q: credentials in URLs are not supported", s)
	}
	if p := u.Port(); p != "" {
		if _, err := probe.ParsePort(p); err != nil {
			return Provider{}, probe.Usagef("bad provider URL %q: %v", s, err)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return Provider{}, probe.Usagef("bad provider URL %q: empty port", s)
	}
	if strings.Contains(u.Hostname(), ":") {
		if _, err := netip.ParseAddr(u.Hostname()); err != nil {
			return Provider{}, probe.Usagef("bad provider URL %q: bad IPv6 address", s)
		}
	}
	u.Fragment = ""
	m := MethodHTTP
	if u.Scheme == "https" {
		m = MethodHTTPS
	}
	return Provider{Spec: u.String(), Method: m, URL: u}, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func parseDNSProvider(s string) (Provider, error) {
	body := s[len("dns:"):]
	for i := 0; i < len(body); i++ {
		if body[i] >= 0x80 {
			return Provider{}, probe.Usagef("bad provider %q: non-ASCII name (write IDNs as xn--...)", s)
		}
	}
	at := strings.LastIndex(body, "@")
	if at < 0 {
		return Provider{}, probe.Usagef("bad provider %q: no @SERVER (dns:NAME[/CLASS][/TYPE]@SERVER)", s)
	}
	query, servers := body[:at], body[at+1:]
	parts := strings.Split(query, "/")
	name := parts[0]
	if name == "" || name == "." {
		return Provider{}, probe.Usagef("bad provider %q: empty name", s)
	}
	if _, ok := dns.IsDomainName(name); !ok || strings.Contains(name, "..") || strings.ContainsAny(name, `\@,`) || len(dns.Fqdn(name)) > 254 {
		return Provider{}, probe.Usagef("bad provider %q: bad name %q", s, name)
	}
	p := Provider{Method: MethodDNS, Name: dns.Fqdn(strings.ToLower(name)), Qclass: dns.ClassINET}
	if len(parts) > 3 {
		return Provider{}, probe.Usagef("bad provider %q: too many /parts (dns:NAME[/CLASS][/TYPE]@SERVER)", s)
	}
	seenType, seenClass := false, false
	for _, part := range parts[1:] {
		up := strings.ToUpper(part)
		switch up {
		case "IN", "CH", "CHAOS":
			if seenClass || seenType {
				return Provider{}, probe.Usagef("bad provider %q: class must come once, before the type", s)
			}
			seenClass = true
			p.Qclass = dns.ClassINET
			if up != "IN" {
				p.Qclass = dns.ClassCHAOS
			}
		case "A", "AAAA", "TXT":
			if seenType {
				return Provider{}, probe.Usagef("bad provider %q: more than one type", s)
			}
			seenType = true
			p.Qtype = dns.StringToType[up]
		default:
			return Provider{}, probe.Usagef("bad provider %q: %q is not a class (IN, CH) or type (A, AAAA, TXT)", s, part)
		}
	}
	if servers == "" {
		return Provider{}, probe.Usagef("bad provider %q: empty server", s)
	}
	list := strings.Split(servers, ",")
	if len(list) > 8 {
		return Provider{}, probe.Usagef("bad provider %q: more than 8 servers", s)
	}
	for _, sv := range list {
		hp, err := probe.ParseHostPort(sv, 53)
		if err != nil {
			return Provider{}, probe.Usagef("bad provider %q: %v", s, err)
		}
		if strings.ContainsAny(hp.Host, "%") {
			return Provider{}, probe.Usagef("bad provider %q: zoned server address", s)
		}
		if _, err := netip.ParseAddr(hp.Host); err != nil {
			if _, ok := dns.IsDomainName(hp.Host); !ok || strings.ContainsAny(hp.Host, `@\[]`) {
				return Provider{}, probe.Usagef("bad provider %q: bad server %q", s, sv)
			}
		}
		p.Servers = append(p.Servers, hp)
	}
	p.Spec = p.canonicalDNS()
	return p, nil
}

func (p Provider) canonicalDNS() string {
	var b strings.Builder
	b.WriteString("dns:")
	b.WriteString(strings.TrimSuffix(p.Name, "."))
	if p.Qclass == dns.ClassCHAOS {
		b.WriteString("/CH")
	}
	if p.Qtype != 0 {
		b.WriteString("/" + dns.TypeToString[p.Qtype])
	}
	b.WriteString("@")
	for i, s := range p.Servers {
		if i > 0 {
			b.WriteString(",")
		}
		if s.Port == 53 {
			b.WriteString(s.Host)
		} else {
			b.WriteString(s.String())
		}
	}
	return b.String()
}

// QtypeFor returns the query type used for family.
func (p Provider) QtypeFor(f Family) uint16 {
	if p.Qtype != 0 {
		return p.Qtype
	}
	if f == IPv6 {
		return dns.TypeAAAA
	}
	return dns.TypeA
}

// String is the canonical spec.
func (p Provider) String() string { return p.Spec }

// DefaultProviderSpecs is the list used without --provider: HTTPS plain-text
// endpoints first (ipecho.net first, the card's example), then the DNS
// methods, which answer fastest but travel unencrypted. This list is data:
// nettool's tests check it and never contact it.
var DefaultProviderSpecs = []string{
	"https://ipecho.net/plain",
	"https://icanhazip.com/",
	"https://ifconfig.me/ip",
	"https://api.ipify.org/",
	"https://checkip.amazonaws.com/",
	"dns:myip.opendns.com@resolver1.opendns.com",
	"dns:o-o.myaddr.l.google.com/TXT@ns1.google.com",
	"dns:whoami.cloudflare/CH/TXT@1.1.1.1,2606:4700:4700::1111",
}

// DefaultProviders parses DefaultProviderSpecs.
func DefaultProviders() []Provider {
	out := make([]Provider, 0, len(DefaultProviderSpecs))
	for _, s := range DefaultProviderSpecs {
		p, err := ParseProvider(s)
		if err != nil {
			panic(fmt.Sprintf("default provider %q: %v", s, err))
		}
		out = append(out, p)
	}
	return out
}
