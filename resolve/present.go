package resolve

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Presentation format as dig (BIND 9) writes it, where miekg/dns writes it
// otherwise. Scripts compare nettool's --short and text output with dig's,
// so the rules are BIND's:
//
//   - names: the characters " ( ) . ; \ @ $ are escaped with a backslash,
//     bytes up to 0x20 (space included) and from 0x7f as \DDD, anything else
//     as it is (miekg writes a space as "\ ", escapes "'" and leaves "$");
//   - hex fields (DS, TLSA, SSHFP, ZONEMD digests, unknown types' \# data)
//     in upper case, and long hex and base64 fields split in chunks of 56
//     characters with a space, dig's default +split=56;
//   - LOC as BIND writes it (no zero padding, altitude with two decimals);
//   - SVCB and HTTPS parameters as BIND 9.18 writes them: alpn always
//     quoted, keys it does not know as keyNNNNN="value", other values bare.

// splitWidth is dig's default +split.
const splitWidth = 56

// split cuts s in chunks of splitWidth characters joined with spaces.
func split(s string) string {
	if len(s) <= splitWidth {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i += splitWidth {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+splitWidth, len(s))])
	}
	return b.String()
}

func upperHex(s string) string { return split(strings.ToUpper(s)) }

// nameNeedsBIND: the name is in miekg's escaped form and BIND writes it
// differently (any escape, or a "$").
func nameNeedsBIND(s string) bool {
	return strings.IndexByte(s, '\\') >= 0 || strings.IndexByte(s, '$') >= 0
}

// PresentName writes a name (in miekg/dns's presentation form, as it comes
// from the wire) as dig does.
func PresentName(s string) string {
	if !nameNeedsBIND(s) {
		return s
	}
	var buf [256]byte
	w, ok := wireName(buf[:], s)
	if !ok {
		return s
	}
	var b strings.Builder
	for off := 0; off < len(w); {
		l := int(w[off])
		off++
		if l == 0 {
			break
		}
		for _, c := range w[off : off+l] {
			switch {
			case c == '"' || c == '(' || c == ')' || c == '.' || c == ';' || c == '\\' || c == '@' || c == '$':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c <= 0x20 || c >= 0x7f:
				fmt.Fprintf(&b, "\\%03d", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('.')
		off += l
	}
	if b.Len() == 0 {
		return "."
	}
	return b.String()
}

// presentRData is the record data as dig writes it, or ok=false when
// miekg's form is already that.
func presentRData(rr dns.RR) (string, bool) {
	switch v := rr.(type) {
	case *dns.LOC:
		return locString(v), true
	case *dns.SVCB:
		return svcbString(v.Priority, v.Target, v.Value), true
	case *dns.HTTPS:
		return svcbString(v.Priority, v.Target, v.Value), true
	case *dns.TLSA:
		return fmt.Sprintf("%d %d %d %s", v.Usage, v.Selector, v.MatchingType, upperHex(v.Certificate)), true
	case *dns.SMIMEA:
		return fmt.Sprintf("%d %d %d %s", v.Usage, v.Selector, v.MatchingType, upperHex(v.Certificate)), true
	case *dns.SSHFP:
		return fmt.Sprintf("%d %d %s", v.Algorithm, v.Type, upperHex(v.FingerPrint)), true
	case *dns.DS:
		return fmt.Sprintf("%d %d %d %s", v.KeyTag, v.Algorithm, v.DigestType, upperHex(v.Digest)), true
	case *dns.CDS:
		return fmt.Sprintf("%d %d %d %s", v.KeyTag, v.Algorithm, v.DigestType, upperHex(v.Digest)), true
	case *dns.DLV:
		return fmt.Sprintf("%d %d %d %s", v.KeyTag, v.Algorithm, v.DigestType, upperHex(v.Digest)), true
	case *dns.ZONEMD:
		return fmt.Sprintf("%d %d %d %s", v.Serial, v.Scheme, v.Hash, upperHex(v.Digest)), true
	case *dns.DNSKEY:
		return fmt.Sprintf("%d %d %d %s", v.Flags, v.Protocol, v.Algorithm, split(v.PublicKey)), true
	case *dns.CDNSKEY:
		return fmt.Sprintf("%d %d %d %s", v.Flags, v.Protocol, v.Algorithm, split(v.PublicKey)), true
	case *dns.KEY:
		return fmt.Sprintf("%d %d %d %s", v.Flags, v.Protocol, v.Algorithm, split(v.PublicKey)), true
	case *dns.RRSIG:
		return fmt.Sprintf("%s %d %d %d %s %s %d %s %s", TypeString(v.TypeCovered), v.Algorithm, v.Labels, v.OrigTtl,
			dns.TimeToString(v.Expiration), dns.TimeToString(v.Inception), v.KeyTag, PresentName(v.SignerName), split(v.Signature)), true
	case *dns.OPENPGPKEY:
		return split(v.PublicKey), true
	case *dns.DHCID:
		return split(v.Digest), true
	case *dns.CERT, *dns.IPSECKEY:
		// miekg's form with the base64 at the end, split.
		s := miekgRData(rr)
		if i := strings.LastIndexByte(s, ' '); i >= 0 {
			return s[:i+1] + split(s[i+1:]), true
		}
		return s, true
	case *dns.CAA:
		// The value is the raw bytes of the wire: miekg takes a backslash
		// in it for an escape and drops it.
		return strconv.Itoa(int(v.Flag)) + " " + v.Tag + " " + quotedOctets(v.Value), true
	case *dns.URI:
		return strconv.Itoa(int(v.Priority)) + " " + strconv.Itoa(int(v.Weight)) + " " + quotedOctets(v.Target), true
	case *dns.RFC3597:
		if t := v.Hdr.Rrtype; t == dns.TypeSVCB || t == dns.TypeHTTPS {
			// An SVCB miekg/dns refused (lenientUnpack): written as dig
			// writes it all the same.
			if b, err := hex.DecodeString(v.Rdata); err == nil {
				if prio, target, kv, ok := svcbFromRdata(b); ok {
					return svcbString(prio, target, kv), true
				}
			}
		}
		n := len(v.Rdata) / 2
		if n == 0 {
			return `\# 0`, true
		}
		return `\# ` + strconv.Itoa(n) + " " + upperHex(v.Rdata), true
	}
	return withNames(rr)
}

// withNames renders a record whose domain-name fields BIND writes
// differently: miekg renders it with plain stand-ins for those names, which
// are then replaced by the names in BIND's form.
func withNames(rr dns.RR) (string, bool) {
	v := reflect.ValueOf(rr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return "", false
	}
	e := v.Elem()
	var fields []int
	for i := 0; i < e.NumField(); i++ {
		f := e.Type().Field(i)
		if tag := f.Tag.Get("dns"); strings.Contains(tag, "domain-name") && f.Type.Kind() == reflect.String && nameNeedsBIND(e.Field(i).String()) {
			fields = append(fields, i)
		}
	}
	if len(fields) == 0 {
		return "", false
	}
	c := dns.Copy(rr)
	ce := reflect.ValueOf(c).Elem()
	names := make([]string, len(fields))
	for k, i := range fields {
		names[k] = PresentName(ce.Field(i).String())
		ce.Field(i).SetString(fmt.Sprintf("nettool-name-%d-stand-in.", k))
	}
	s := miekgRData(c)
	for k := range fields {
		s = strings.Replace(s, fmt.Sprintf("nettool-name-%d-stand-in.", k), names[k], 1)
	}
	return s, true
}

// miekgRData is miekg's presentation of the data.
func miekgRData(rr dns.RR) string {
	s := rr.String()
	hdr := rr.Header().String()
	if strings.HasPrefix(s, hdr) {
		return s[len(hdr):]
	}
	// RFC 3597 types: ";name ttl class TYPEnnn \# ..." forms
	if f := strings.SplitN(s, "\t", 5); len(f) == 5 {
		return f[4]
	}
	return s
}

// locString writes a LOC record as BIND's loc_29.c does.
func locString(l *dns.LOC) string {
	if l.Version != 0 {
		return miekgRData(l)
	}
	angle := func(v uint32, pos, neg string) string {
		h := pos
		if v >= 1<<31 { // the equator is N, the prime meridian E, as dig writes them
			v -= 1 << 31
		} else {
			h = neg
			v = 1<<31 - v
		}
		ms := v % 1000
		v /= 1000
		s := v % 60
		v /= 60
		m := v % 60
		d := v / 60
		return fmt.Sprintf("%d %d %d.%03d %s", d, m, s, ms, h)
	}
	prec := func(p uint8) string {
		base, exp := uint64(p>>4), int(p&0x0f)
		if base > 9 || exp > 9 {
			return "?"
		}
		if exp > 1 {
			return strconv.FormatUint(base*pow10(exp-2), 10)
		}
		return fmt.Sprintf("0.%02d", base*pow10(exp))
	}
	alt := l.Altitude
	sign := ""
	if alt < 10000000 {
		sign, alt = "-", 10000000-alt
	} else {
		alt -= 10000000
	}
	return fmt.Sprintf("%s %s %s%d.%02dm %sm %sm %sm", angle(l.Latitude, "N", "S"), angle(l.Longitude, "E", "W"), sign, alt/100, alt%100, prec(l.Size), prec(l.HorizPre), prec(l.VertPre))
}

func pow10(n int) uint64 {
	p := uint64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// quotedOctets writes raw bytes as a quoted string, as dig does: '"' and
// '\' escaped with a backslash, bytes outside printable ASCII as \DDD.
func quotedOctets(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	quoteValue(&b, []byte(v), false)
	b.WriteByte('"')
	return b.String()
}

// ip6String writes an IPv6 address as dig does: an IPv4-mapped one as
// ::ffff:192.0.2.1 (net.IP.String would write 192.0.2.1).
func ip6String(ip net.IP) string {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return ipString(ip)
	}
	return a.String()
}

// svcbKeyName is the name BIND 9.18 gives a SvcParamKey.
func svcbKeyName(k dns.SVCBKey) string {
	switch k {
	case dns.SVCB_MANDATORY, dns.SVCB_ALPN, dns.SVCB_NO_DEFAULT_ALPN, dns.SVCB_PORT, dns.SVCB_IPV4HINT, dns.SVCB_ECHCONFIG, dns.SVCB_IPV6HINT:
		return k.String()
	}
	return "key" + strconv.Itoa(int(k))
}

// quoteValue writes an opaque value in quotes: '"' and '\' escaped, bytes
// outside printable ASCII as \DDD.
func quoteValue(b *strings.Builder, v []byte, alpn bool) {
	for _, c := range v {
		switch {
		case alpn && c == ',':
			b.WriteString(`\\,`)
		case alpn && c == '\\':
			b.WriteString(`\\\\`)
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
}

func svcbString(prio uint16, target string, kv []dns.SVCBKeyValue) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(prio)))
	b.WriteByte(' ')
	b.WriteString(PresentName(target))
	for _, p := range kv {
		b.WriteByte(' ')
		b.WriteString(svcbKeyName(p.Key()))
		switch v := p.(type) {
		case *dns.SVCBMandatory:
			b.WriteByte('=')
			for i, k := range v.Code {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(svcbKeyName(k))
			}
		case *dns.SVCBAlpn:
			b.WriteString(`="`)
			for i, a := range v.Alpn {
				if i > 0 {
					b.WriteByte(',')
				}
				quoteValue(&b, []byte(a), true)
			}
			b.WriteByte('"')
		case *dns.SVCBNoDefaultAlpn:
		case *dns.SVCBPort:
			b.WriteString("=" + strconv.Itoa(int(v.Port)))
		case *dns.SVCBIPv4Hint:
			b.WriteByte('=')
			for i, ip := range v.Hint {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(ipString(ip))
			}
		case *dns.SVCBIPv6Hint:
			b.WriteByte('=')
			for i, ip := range v.Hint {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(ip6String(ip))
			}
		case *dns.SVCBECHConfig:
			b.WriteString("=" + base64.StdEncoding.EncodeToString(v.ECH))
		case *dns.SVCBDoHPath:
			b.WriteString(`="`)
			quoteValue(&b, []byte(v.Template), false)
			b.WriteByte('"')
		case *dns.SVCBOhttp:
		case *dns.SVCBLocal:
			if len(v.Data) > 0 {
				b.WriteString(`="`)
				quoteValue(&b, v.Data, false)
				b.WriteByte('"')
			}
		default:
			b.WriteString(`="` + p.String() + `"`)
		}
	}
	return b.String()
}

// svcbFromRdata reads SVCB data (RFC 9460 section 2.2) without miekg's
// checks on the values.
func svcbFromRdata(b []byte) (uint16, string, []dns.SVCBKeyValue, bool) {
	if len(b) < 3 {
		return 0, "", nil, false
	}
	prio := binary.BigEndian.Uint16(b)
	target, off, err := dns.UnpackDomainName(b, 2)
	if err != nil {
		return 0, "", nil, false
	}
	var kv []dns.SVCBKeyValue
	for off < len(b) {
		if off+4 > len(b) {
			return 0, "", nil, false
		}
		key := dns.SVCBKey(binary.BigEndian.Uint16(b[off:]))
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		off += 4
		if off+n > len(b) {
			return 0, "", nil, false
		}
		v := b[off : off+n]
		off += n
		switch key {
		case dns.SVCB_MANDATORY:
			if n%2 != 0 {
				return 0, "", nil, false
			}
			m := &dns.SVCBMandatory{}
			for i := 0; i < n; i += 2 {
				m.Code = append(m.Code, dns.SVCBKey(binary.BigEndian.Uint16(v[i:])))
			}
			kv = append(kv, m)
		case dns.SVCB_ALPN:
			a := &dns.SVCBAlpn{}
			for i := 0; i < n; {
				l := int(v[i])
				if i+1+l > n {
					return 0, "", nil, false
				}
				a.Alpn = append(a.Alpn, string(v[i+1:i+1+l]))
				i += 1 + l
			}
			kv = append(kv, a)
		case dns.SVCB_NO_DEFAULT_ALPN:
			kv = append(kv, &dns.SVCBNoDefaultAlpn{})
		case dns.SVCB_PORT:
			if n != 2 {
				return 0, "", nil, false
			}
			kv = append(kv, &dns.SVCBPort{Port: binary.BigEndian.Uint16(v)})
		case dns.SVCB_IPV4HINT, dns.SVCB_IPV6HINT:
			size := 4
			if key == dns.SVCB_IPV6HINT {
				size = 16
			}
			if n == 0 || n%size != 0 {
				return 0, "", nil, false
			}
			var ips []net.IP
			for i := 0; i < n; i += size {
				ips = append(ips, net.IP(append([]byte(nil), v[i:i+size]...)))
			}
			if size == 4 {
				kv = append(kv, &dns.SVCBIPv4Hint{Hint: ips})
			} else {
				kv = append(kv, &dns.SVCBIPv6Hint{Hint: ips})
			}
		case dns.SVCB_ECHCONFIG:
			kv = append(kv, &dns.SVCBECHConfig{ECH: append([]byte(nil), v...)})
		default:
			kv = append(kv, &dns.SVCBLocal{KeyCode: key, Data: append([]byte(nil), v...)})
		}
	}
	return prio, target, kv, true
}
