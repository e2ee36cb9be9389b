// Package resolve is nettool's DNS client: server addresses and transports
// (UDP with TCP fallback, TCP, DNS over TLS, DNS over HTTPS), queries with
// EDNS0, reverse names, resolv.conf with its search list and ndots, and a
// streaming batch engine. It never prints: results are typed values that
// cmd/nettool renders.
package resolve

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// CheckName validates a domain name as typed by a user (presentation format,
// with \. and \DDD escapes). It returns a usage error naming the problem:
// an empty label, a label over 63 bytes or a name over 253 bytes.
func CheckName(name string) error {
	if name == "" {
		return probe.Usagef("empty name")
	}
	if name == "." {
		return nil
	}
	if strings.ContainsAny(name, " \t\r\n") {
		return probe.Usagef("bad name %q: contains white space", name)
	}
	s := strings.TrimSuffix(name, ".")
	if strings.HasSuffix(s, ".") && !strings.HasSuffix(s, `\.`) {
		return probe.Usagef("bad name %q: empty label", name)
	}
	total, label := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
				n, _ := strconv.Atoi(s[i+1 : i+4])
				if n > 255 {
					return probe.Usagef("bad name %q: bad escape \\%s", name, s[i+1:i+4])
				}
				i += 3
			} else if i+1 < len(s) {
				i++
			} else {
				return probe.Usagef("bad name %q: ends with a backslash", name)
			}
			label++
			total++
		case c == '.':
			if label == 0 {
				return probe.Usagef("bad name %q: empty label", name)
			}
			label = 0
			total++
		default:
			label++
			total++
		}
		if label > 63 {
			return probe.Usagef("bad name %q: label longer than 63 bytes", name)
		}
	}
	if label == 0 {
		return probe.Usagef("bad name %q: empty label", name)
	}
	if total > 253 {
		return probe.Usagef("bad name %q: longer than 253 bytes", name)
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ParseType reads a record type: an exact type name that miekg/dns knows
// (case does not matter: "mx", "MX") or the RFC 3597 form "TYPE65". A word
// that merely contains a type name ("ns1") is not a type.
func ParseType(s string) (uint16, bool) {
	u := strings.ToUpper(s)
	if t, ok := dns.StringToType[u]; ok && t != dns.TypeNone && t != dns.TypeReserved {
		return t, true
	}
	if rest, ok := strings.CutPrefix(u, "TYPE"); ok && rest != "" && isAllDigits(rest) {
		n, err := strconv.ParseUint(rest, 10, 16)
		if err == nil && n > 0 {
			return uint16(n), true
		}
	}
	return 0, false
}

// ParseClass reads a class: IN, CH (CHAOS), HS (HESIOD) or CLASSnnn. ANY is
// read as a type, as dig does.
func ParseClass(s string) (uint16, bool) {
	switch strings.ToUpper(s) {
	case "IN":
		return dns.ClassINET, true
	case "CH", "CHAOS":
		return dns.ClassCHAOS, true
	case "HS", "HESIOD":
		return dns.ClassHESIOD, true
	}
	if rest, ok := strings.CutPrefix(strings.ToUpper(s), "CLASS"); ok && rest != "" && isAllDigits(rest) {
		n, err := strconv.ParseUint(rest, 10, 16)
		if err == nil {
			return uint16(n), true
		}
	}
	return 0, false
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// TypeString names a type: "A", or "TYPE65535" for one miekg does not know.
func TypeString(t uint16) string {
	switch t { // the common ones without a map lookup (batch hot path)
	case dns.TypeA:
		return "A"
	case dns.TypeAAAA:
		return "AAAA"
	case dns.TypeNS:
		return "NS"
	case dns.TypeCNAME:
		return "CNAME"
	case dns.TypeMX:
		return "MX"
	case dns.TypeTXT:
		return "TXT"
	case dns.TypeSOA:
		return "SOA"
	case dns.TypePTR:
		return "PTR"
	}
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// ClassString names a class.
func ClassString(c uint16) string {
	if c == dns.ClassINET {
		return "IN"
	}
	if s, ok := dns.ClassToString[c]; ok {
		return s
	}
	return "CLASS" + strconv.Itoa(int(c))
}

// ReverseName returns the PTR name of an IPv4 or IPv6 address
// (4.3.2.1.in-addr.arpa., nibbles under ip6.arpa.).
func ReverseName(addr string) (string, error) {
	a, err := netip.ParseAddr(strings.Trim(addr, "[]"))
	if err != nil {
		return "", probe.Usagef("bad address for -x %q: want an IPv4 or IPv6 address", addr)
	}
	a = a.WithZone("")
	name, err := dns.ReverseAddr(a.Unmap().String())
	if err != nil {
		return "", probe.Usagef("bad address for -x %q: %v", addr, err)
	}
	return name, nil
}

// Fqdn returns name with a trailing dot.
func Fqdn(name string) string { return dns.Fqdn(name) }

// Question is one query: a fully qualified name, a type and a class.
type Question struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Class string `json:"class"`

	qtype, qclass uint16
}

// NewQuestion builds a question; name is made fully qualified.
func NewQuestion(name string, qtype, qclass uint16) Question {
	if qclass == 0 {
		qclass = dns.ClassINET
	}
	return Question{Name: dns.Fqdn(name), Type: TypeString(qtype), Class: ClassString(qclass), qtype: qtype, qclass: qclass}
}

// QType is the numeric type.
func (q Question) QType() uint16 { return q.qtype }

// QClass is the numeric class.
func (q Question) QClass() uint16 { return q.qclass }

func (q Question) String() string { return fmt.Sprintf("%s %s %s", q.Name, q.Class, q.Type) }
