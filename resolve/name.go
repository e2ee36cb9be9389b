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
	"unicode/utf8"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"

	"github.com/nettool/nettool/probe"
)

// CheckName validates a domain name as typed by a user (presentation format,
// with \. \X and \DDD escapes, RFC 1035 section 5.1). It returns a usage
// error naming the problem: unescaped white space, an empty label, a label
// over 63 bytes or a name over 255 bytes on the wire. An escaped space
// ("a\ b", "a\032b") is a byte of a label like any other.
func CheckName(name string) error {
	if name == "" {
		return probe.Usagef("empty name")
	}
	if name == "." {
		return nil
	}
	wire, label := 1, 0 // the root's zero byte; bytes in this label
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\':
			if i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]) {
				n, _ := strconv.Atoi(name[i+1 : i+4])
				if n > 255 {
					return probe.Usagef("bad name %q: bad escape \\%s", name, name[i+1:i+4])
				}
				i += 3
			} else if i+1 < len(name) && isDigit(name[i+1]) {
				return probe.Usagef("bad name %q: bad escape (\\DDD takes three digits)", name)
			} else if i+1 < len(name) && name[i+1] < 0x20 {
				return probe.Usagef("bad name %q: escaped control character (write it as \\DDD)", name)
			} else if i+1 < len(name) {
				i++
			} else {
				return probe.Usagef("bad name %q: ends with a backslash", name)
			}
			label++
		case c == '.':
			if label == 0 {
				return probe.Usagef("bad name %q: empty label", name)
			}
			wire += label + 1
			label = 0
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			return probe.Usagef("bad name %q: contains white space (write a space in a label as \\032)", name)
		default:
			label++
		}
		if label > 63 {
			return probe.Usagef("bad name %q: label longer than 63 bytes", name)
		}
	}
	if label > 0 {
		wire += label + 1
	}
	if wire > 255 {
		return probe.Usagef("bad name %q: longer than 253 bytes (255 on the wire)", name)
	}
	return nil
}

// idnaProfile converts raw UTF-8 labels: UTS #46 non-transitional lookup
// processing (mapping, NFC, STD3 rules, the Bidi rule), as kdig does with
// libidn2 and as browsers do.
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.BidiRule())

// QueryName turns a name as typed into the name nettool asks for. Escapes
// are kept as written (\DDD sends exactly that byte). A label written in
// raw UTF-8 (bytes 0x80 and up, not escaped) is an internationalised label
// and is sent in its IDNA A-label form, "bücher" as "xn--bcher-kva", as kdig
// does (dig sends the raw bytes; to send those, write them as \DDD). A name
// that is not valid UTF-8, or a label IDNA refuses, is a usage error.
func QueryName(name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	raw := false
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			raw = true
			break
		}
	}
	if !raw {
		return canonicalName(name), nil
	}
	if !utf8.ValidString(name) {
		return "", probe.Usagef("bad name %q: not valid UTF-8 (write raw bytes as \\DDD)", name)
	}
	var b strings.Builder
	for _, label := range splitLabels(name) {
		if label == "" { // the root after a trailing dot
			break
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		ascii := true
		for i := 0; i < len(label); i++ {
			if label[i] >= 0x80 {
				ascii = false
			}
		}
		if ascii {
			b.WriteString(label)
			continue
		}
		if strings.IndexByte(label, '\\') >= 0 {
			return "", probe.Usagef("bad name %q: label %q mixes raw UTF-8 and escapes (write it all in UTF-8, or all as \\DDD)", name, label)
		}
		a, err := idnaProfile.ToASCII(label)
		if err != nil {
			return "", probe.Usagef("bad name %q: label %q is not a valid internationalised label (%v); write raw bytes as \\DDD", name, label, err)
		}
		b.WriteString(a)
	}
	if strings.HasSuffix(name, ".") && !strings.HasSuffix(b.String(), ".") {
		b.WriteByte('.')
	}
	out := b.String()
	if err := CheckName(out); err != nil {
		return "", err
	}
	return canonicalName(out), nil
}

// canonicalName writes a name's escapes as dig writes them (PresentName):
// "a\ b" and "a\032b" are both "a\032b", "\126" and "\~" are "~". A name
// without a trailing dot keeps none.
func canonicalName(name string) string {
	if strings.IndexByte(name, '\\') < 0 && strings.IndexByte(name, '$') < 0 {
		return name
	}
	fq := name
	labels := splitLabels(name)
	rel := labels[len(labels)-1] != ""
	if rel {
		fq += "."
	}
	p := PresentName(fq)
	if rel {
		p = strings.TrimSuffix(p, ".")
	}
	return p
}

// splitLabels splits a presentation-form name at its unescaped dots.
func splitLabels(name string) []string {
	var out []string
	start := 0
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++
		case '.':
			out = append(out, name[start:i])
			start = i + 1
		}
	}
	return append(out, name[start:])
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
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa.", b[3], b[2], b[1], b[0]), nil
	}
	// Every IPv6 address, an IPv4-mapped one (::ffff:192.0.2.1) included,
	// has its name under ip6.arpa, as dig and kdig ask (RFC 3596 section
	// 2.5; miekg's ReverseAddr would give the in-addr.arpa name).
	const hexd = "0123456789abcdef"
	b16 := a.As16()
	out := make([]byte, 0, 73)
	for i := 15; i >= 0; i-- {
		out = append(out, hexd[b16[i]&0xf], '.', hexd[b16[i]>>4], '.')
	}
	return string(append(out, "ip6.arpa."...)), nil
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
