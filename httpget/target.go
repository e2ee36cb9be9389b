// Package httpget is nettool's raw HTTP/1.x client. It builds the request
// bytes itself, writes them on a plain TCP (or TLS) connection, and parses
// the response with its own strict-but-tolerant parser that records every
// RFC 9112 violation instead of giving up, so a person can see exactly what
// was sent and received, even from a broken server. It never prints.
package httpget

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/nettool/nettool/probe"
)

// Target is a parsed TARGET: a URL or host[:port][/path].
type Target struct {
	Scheme string // "http" or "https"
	Host   string // name or IP literal (IPv6 without brackets)
	Port   int
	Path   string // the request-target: path and query, never empty
}

// DefaultPort is 80 for http and 443 for https.
func DefaultPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}

// HostHeader is the Host field value: the host, bracketed when IPv6, with
// the port when it is not the scheme's default.
func (t Target) HostHeader() string {
	h := t.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if t.Port != DefaultPort(t.Scheme) {
		h += ":" + strconv.Itoa(t.Port)
	}
	return h
}

// Authority is host:port, bracketed for IPv6.
func (t Target) Authority() string {
	return probe.HostPort{Host: t.Host, Port: t.Port}.String()
}

// String renders the target as a URL.
func (t Target) String() string { return t.Scheme + "://" + t.HostHeader() + t.Path }

// ParseTarget parses "http://host[:port]/path", "https://...", or
// "host[:port][/path]" (http). Every problem is a *probe.UsageError.
func ParseTarget(s string) (Target, error) {
	if s == "" {
		return Target{}, probe.Usagef("empty URL")
	}
	if len(s) > 8192 {
		return Target{}, probe.Usagef("URL too long (%d bytes, at most 8192)", len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return Target{}, probe.Usagef("bad URL %q: control character", s)
		}
	}
	t := Target{Scheme: "http"}
	rest := s
	if i := strings.Index(s, "://"); i >= 0 {
		scheme := strings.ToLower(s[:i])
		switch scheme {
		case "http", "https":
			t.Scheme = scheme
		default:
			return Target{}, probe.Usagef("bad URL %q: unsupported scheme %q (want http or https)", s, s[:i])
		}
		rest = s[i+3:]
	}
	// The fragment never goes on the wire.
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	auth, path := rest, "/"
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		auth, path = rest[:i], rest[i:]
		if path[0] == '?' {
			path = "/" + path
		}
	}
	if strings.Contains(auth, "@") {
		return Target{}, probe.Usagef("bad URL %q: credentials in the URL are not supported (use -H 'Authorization: ...')", s)
	}
	if auth == "" {
		return Target{}, probe.Usagef("bad URL %q: empty host", s)
	}
	hp, err := probe.ParseHostPort(auth, DefaultPort(t.Scheme))
	if err != nil {
		return Target{}, probe.Usagef("bad URL %q: %v", s, err)
	}
	if i := strings.IndexByte(hp.Host, '%'); i >= 0 {
		for _, c := range hp.Host[i+1:] {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return Target{}, probe.Usagef("bad URL %q: bad IPv6 zone", s)
			}
		}
	}
	if _, err := netip.ParseAddr(hp.Host); err != nil {
		if err := checkHostName(hp.Host); err != nil {
			return Target{}, probe.Usagef("bad URL %q: %v", s, err)
		}
		hp.Host = strings.ToLower(strings.TrimSuffix(hp.Host, "."))
		if hp.Host == "" {
			return Target{}, probe.Usagef("bad URL %q: empty host", s)
		}
	}
	t.Host, t.Port = hp.Host, hp.Port
	t.Path = encodePath(path)
	return t, nil
}

func checkHostName(h string) error {
	if len(h) > 253 {
		return probe.Usagef("host name longer than 253 bytes")
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return probe.Usagef("bad host name %q: empty or overlong label", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				if c >= 0x80 {
					return probe.Usagef("bad host name %q: write internationalised names in their xn-- form", h)
				}
				return probe.Usagef("bad host name %q: character %q", h, string(c))
			}
		}
	}
	return nil
}

// encodePath percent-encodes spaces, quotes and non-ASCII bytes so the
// request-target is one token; everything else is sent as given.
func encodePath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
