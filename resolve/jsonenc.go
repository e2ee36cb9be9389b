package resolve

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// Results are written to JSON by hand: a batch writes one per query, and
// reflection-driven encoding/json was most of the batch's CPU time. The
// output is what encoding/json would write for the documented schema (keys
// in this order, sections always arrays).

// MarshalJSON implements json.Marshaler with AppendJSON.
func (r *Result) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// AppendJSON appends r as one compact JSON object.
func (r *Result) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, r.Type)
	if r.Target != "" {
		b = append(b, `,"target":`...)
		b = appendString(b, r.Target)
	}
	b = append(b, `,"ok":`...)
	b = strconv.AppendBool(b, r.OK)
	if r.Failure != "" {
		b = append(b, `,"failure":`...)
		b = appendString(b, r.Failure)
	}
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
	}
	b = append(b, `,"start":"`...)
	b = r.Start.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","elapsed_ms":`...)
	b = appendFloat(b, r.ElapsedMS)
	b = append(b, `,"question":{"name":`...)
	b = appendString(b, r.Question.Name)
	b = append(b, `,"type":`...)
	b = appendString(b, r.Question.Type)
	b = append(b, `,"class":`...)
	b = appendString(b, r.Question.Class)
	b = append(b, '}')
	if r.InputName != "" {
		b = append(b, `,"input_name":`...)
		b = appendString(b, r.InputName)
	}
	b = append(b, `,"server":`...)
	b = appendString(b, r.Server)
	b = append(b, `,"transport":`...)
	b = appendString(b, r.Transport)
	b = append(b, `,"tcp_fallback":`...)
	b = strconv.AppendBool(b, r.TCPFallback)
	b = append(b, `,"tries":`...)
	b = strconv.AppendInt(b, int64(r.Tries), 10)
	if r.Rcode != "" {
		b = append(b, `,"rcode":`...)
		b = appendString(b, r.Rcode)
	}
	if f := r.Flags; f != nil {
		b = append(b, `,"flags":{"qr":`...)
		b = strconv.AppendBool(b, f.QR)
		b = append(b, `,"aa":`...)
		b = strconv.AppendBool(b, f.AA)
		b = append(b, `,"tc":`...)
		b = strconv.AppendBool(b, f.TC)
		b = append(b, `,"rd":`...)
		b = strconv.AppendBool(b, f.RD)
		b = append(b, `,"ra":`...)
		b = strconv.AppendBool(b, f.RA)
		b = append(b, `,"ad":`...)
		b = strconv.AppendBool(b, f.AD)
		b = append(b, `,"cd":`...)
		b = strconv.AppendBool(b, f.CD)
		b = append(b, '}')
	}
	b = append(b, `,"rtt_ms":`...)
	b = appendFloat(b, r.RTTMS)
	if e := r.EDNS; e != nil {
		b = append(b, `,"edns":{"version":`...)
		b = strconv.AppendUint(b, uint64(e.Version), 10)
		b = append(b, `,"udp_size":`...)
		b = strconv.AppendUint(b, uint64(e.UDPSize), 10)
		b = append(b, `,"do":`...)
		b = strconv.AppendBool(b, e.DO)
		for _, kv := range [...]struct{ k, v string }{{"nsid", e.NSID}, {"nsid_hex", e.NSIDHex}, {"subnet", e.Subnet}, {"extended_rcode", e.ExtRcode}} {
			if kv.v != "" {
				b = append(b, ',')
				b = appendString(b, kv.k)
				b = append(b, ':')
				b = appendString(b, kv.v)
			}
		}
		if len(e.EDE) > 0 {
			b = append(b, `,"ede":`...)
			b = appendStrings(b, e.EDE)
		}
		if len(e.OtherOpts) > 0 {
			b = append(b, `,"options":`...)
			b = appendStrings(b, e.OtherOpts)
		}
		b = append(b, '}')
	}
	b = append(b, `,"answer":`...)
	b = appendRecords(b, r.Answer)
	b = append(b, `,"authority":`...)
	b = appendRecords(b, r.Authority)
	b = append(b, `,"additional":`...)
	b = appendRecords(b, r.Additional)
	if r.Malformed != "" {
		b = append(b, `,"malformed":`...)
		b = appendString(b, r.Malformed)
	}
	return append(b, '}')
}

func appendRecords(b []byte, rs []Record) []byte {
	b = append(b, '[')
	for i := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = rs[i].appendJSON(b)
	}
	return append(b, ']')
}

// MarshalJSON writes the common fields first, then the typed fields sorted.
func (r Record) MarshalJSON() ([]byte, error) { return r.appendJSON(nil), nil }

func (r *Record) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, r.Name)
	b = append(b, `,"type":`...)
	b = appendString(b, r.Type)
	b = append(b, `,"class":`...)
	b = appendString(b, r.Class)
	b = append(b, `,"ttl":`...)
	b = strconv.AppendUint(b, uint64(r.TTL), 10)
	b = append(b, `,"data":`...)
	b = appendString(b, r.Data)
	switch r.kind {
	case kindAddress:
		b = append(b, `,"address":`...)
		return append(appendString(b, r.Data), '}')
	case kindTarget:
		b = append(b, `,"target":`...)
		return append(appendString(b, r.Data), '}')
	case kindHost:
		b = append(b, `,"host":`...)
		return append(appendString(b, r.Data), '}')
	case kindMX:
		b = append(b, `,"exchange":`...)
		b = appendString(b, r.aux)
		b = append(b, `,"preference":`...)
		return append(strconv.AppendUint(b, uint64(r.pref), 10), '}')
	}
	fields := r.Fields
	if fields == nil && r.rr != nil {
		switch v := r.rr.(type) {
		case *dns.A:
			b = append(b, `,"address":`...)
			return append(appendString(b, ipString(v.A)), '}')
		case *dns.AAAA:
			b = append(b, `,"address":`...)
			return append(appendString(b, ip6String(v.AAAA)), '}')
		case *dns.CNAME:
			b = append(b, `,"target":`...)
			return append(appendString(b, PresentName(v.Target)), '}')
		case *dns.NS:
			b = append(b, `,"host":`...)
			return append(appendString(b, PresentName(v.Ns)), '}')
		case *dns.PTR:
			b = append(b, `,"target":`...)
			return append(appendString(b, PresentName(v.Ptr)), '}')
		case *dns.MX:
			b = append(b, `,"exchange":`...)
			b = appendString(b, PresentName(v.Mx))
			b = append(b, `,"preference":`...)
			return append(strconv.AppendUint(b, uint64(v.Preference), 10), '}')
		}
		fields = typedFields(r.rr)
	}
	if len(fields) == 0 {
		return append(b, '}')
	}
	var keysArr [16]string
	keys := keysArr[:0]
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = append(b, ',')
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValue(b, fields[k])
	}
	return append(b, '}')
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendString(b, x)
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	case []string:
		return appendStrings(b, x)
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, x[k])
		}
		return append(b, '}')
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendFloat formats like encoding/json.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping off:
// control bytes escaped, invalid UTF-8 as \ufffd, U+2028/U+2029 escaped.
// Like the shared printer's JSON (probe/output's jsonSafeWriter), it also
// escapes DEL, the C1 controls and the bidi formatting characters, which
// encoding/json writes raw: the batch's JSON does not pass through the
// printer, and EDE text from the wire could carry them to a terminal.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if (r >= 0x80 && r <= 0x9f) || jsonUnsafeFormat(r) {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonUnsafeFormat: the bidi formatting characters probe/output escapes.
func jsonUnsafeFormat(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}
