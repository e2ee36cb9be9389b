package resolve

import (
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/miekg/dns"
)

// Record is one resource record for display and JSON: the common fields, the
// record data in zone-file presentation form (strings from the wire escaped
// as \DDD, as dig shows them), and typed fields per record type (A:
// "address"; MX: "preference", "exchange"; ...).
type Record struct {
	Name   string
	Type   string
	Class  string
	TTL    uint32
	Data   string
	Fields map[string]any

	rr   dns.RR // set instead of Fields by the batch's lighter conversion
	kind uint8  // set by the batch's fast path: typed fields come from Data
	pref uint16 // MX preference (fast path)
	aux  string // MX exchange (fast path)
}

// records converts a section, leaving out the OPT pseudo-record (its content
// is in Result.EDNS). With lite, typed fields are left to the JSON writer.
func records(rrs []dns.RR, lite bool) []Record {
	out := make([]Record, 0, len(rrs))
	for _, rr := range rrs {
		h := rr.Header()
		if h.Rrtype == dns.TypeOPT {
			continue
		}
		if lite {
			out = append(out, Record{Name: PresentName(h.Name), Type: TypeString(h.Rrtype), Class: ClassString(h.Class), TTL: h.Ttl, Data: RData(rr), rr: rr})
			continue
		}
		out = append(out, NewRecord(rr))
	}
	return out
}

// NewRecord describes rr.
func NewRecord(rr dns.RR) Record {
	h := rr.Header()
	r := Record{Name: PresentName(h.Name), Type: TypeString(h.Rrtype), Class: ClassString(h.Class), TTL: h.Ttl, Data: RData(rr)}
	r.Fields = typedFields(rr)
	return r
}

// RData is the record's data in presentation form (what follows the header
// in a zone file).
func RData(rr dns.RR) string {
	// Fast paths for the common types, with names that need no escaping.
	switch v := rr.(type) {
	case *dns.A:
		if v.A != nil {
			return v.A.String()
		}
	case *dns.AAAA:
		if v.AAAA != nil && v.AAAA.To4() == nil {
			return v.AAAA.String()
		}
	case *dns.CNAME:
		if plainName(v.Target) {
			return v.Target
		}
	case *dns.NS:
		if plainName(v.Ns) {
			return v.Ns
		}
	case *dns.PTR:
		if plainName(v.Ptr) {
			return v.Ptr
		}
	case *dns.MX:
		if plainName(v.Mx) {
			return strconv.Itoa(int(v.Preference)) + " " + v.Mx
		}
	}
	if s, ok := presentRData(rr); ok {
		return s
	}
	return miekgRData(rr)
}

func typedFields(rr dns.RR) map[string]any {
	switch v := rr.(type) {
	case *dns.A:
		return map[string]any{"address": ipString(v.A)}
	case *dns.AAAA:
		return map[string]any{"address": ip6String(v.AAAA)}
	case *dns.CNAME:
		return map[string]any{"target": PresentName(v.Target)}
	case *dns.DNAME:
		return map[string]any{"target": PresentName(v.Target)}
	case *dns.NS:
		return map[string]any{"host": PresentName(v.Ns)}
	case *dns.PTR:
		return map[string]any{"target": PresentName(v.Ptr)}
	case *dns.MX:
		return map[string]any{"preference": v.Preference, "exchange": PresentName(v.Mx)}
	case *dns.TXT:
		return map[string]any{"strings": nonNil(v.Txt), "text": strings.Join(v.Txt, "")}
	case *dns.SPF:
		return map[string]any{"strings": nonNil(v.Txt), "text": strings.Join(v.Txt, "")}
	case *dns.SOA:
		return map[string]any{"mname": PresentName(v.Ns), "rname": PresentName(v.Mbox), "serial": v.Serial, "refresh": v.Refresh, "retry": v.Retry, "expire": v.Expire, "minimum": v.Minttl}
	case *dns.SRV:
		return map[string]any{"priority": v.Priority, "weight": v.Weight, "port": v.Port, "target": PresentName(v.Target)}
	case *dns.CAA:
		return map[string]any{"flag": v.Flag, "tag": v.Tag, "value": v.Value}
	case *dns.HINFO:
		return map[string]any{"cpu": v.Cpu, "os": v.Os}
	case *dns.RRSIG:
		return map[string]any{"type_covered": TypeString(v.TypeCovered), "algorithm": v.Algorithm, "labels": v.Labels, "original_ttl": v.OrigTtl,
			"expiration": dns.TimeToString(v.Expiration), "inception": dns.TimeToString(v.Inception), "key_tag": v.KeyTag, "signer_name": PresentName(v.SignerName), "signature": v.Signature}
	case *dns.NSEC:
		return map[string]any{"next_domain": PresentName(v.NextDomain), "types": typeNames(v.TypeBitMap)}
	case *dns.SVCB:
		return svcbFields(v.Priority, v.Target, v.Value)
	case *dns.HTTPS:
		return svcbFields(v.Priority, v.Target, v.Value)
	case *dns.RFC3597:
		return map[string]any{"rdata_hex": strings.ToUpper(v.Rdata)}
	case *dns.SSHFP:
		// Its "Type" field is the fingerprint type: it must not overwrite
		// the record's "type".
		return map[string]any{"algorithm": v.Algorithm, "fp_type": v.Type, "fingerprint": strings.ToUpper(v.FingerPrint)}
	case *dns.CERT:
		return map[string]any{"cert_type": v.Type, "key_tag": v.KeyTag, "algorithm": v.Algorithm, "certificate": v.Certificate}
	case *dns.DS:
		return dsFields(v)
	case *dns.CDS: // the fields of the DS it embeds (miekg's reflection saw one struct)
		return dsFields(&v.DS)
	case *dns.DLV:
		return dsFields(&v.DS)
	case *dns.CDNSKEY:
		return reflectFields(&v.DNSKEY)
	case *dns.TLSA:
		return map[string]any{"usage": v.Usage, "selector": v.Selector, "matching_type": v.MatchingType, "certificate": strings.ToUpper(v.Certificate)}
	case *dns.SMIMEA:
		return map[string]any{"usage": v.Usage, "selector": v.Selector, "matching_type": v.MatchingType, "certificate": strings.ToUpper(v.Certificate)}
	}
	return reflectFields(rr)
}

// recordKeys are the keys every record object has: a typed field never
// takes one of them.
var recordKeys = map[string]bool{"name": true, "type": true, "class": true, "ttl": true, "data": true}

func dsFields(v *dns.DS) map[string]any {
	f := reflectFields(v)
	f["digest"] = strings.ToUpper(v.Digest) // as in data, as dig writes it
	return f
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func ipString(ip net.IP) string {
	if ip == nil {
		return ""
	}
	return ip.String()
}

func typeNames(ts []uint16) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = TypeString(t)
	}
	return out
}

func svcbFields(prio uint16, target string, kv []dns.SVCBKeyValue) map[string]any {
	params := map[string]string{}
	for _, p := range kv {
		params[p.Key().String()] = p.String()
	}
	return map[string]any{"priority": prio, "target": target, "params": params}
}

// reflectFields gives every other type typed fields named after miekg's
// struct fields in snake_case: numbers stay numbers, the rest are strings.
func reflectFields(rr dns.RR) map[string]any {
	v := reflect.ValueOf(rr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	t := v.Type()
	out := map[string]any{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "Hdr" {
			continue
		}
		fv := v.Field(i)
		key := snake(f.Name)
		if recordKeys[key] {
			key = strings.ToLower(TypeString(rr.Header().Rrtype)) + "_" + key // NULL's Data: "null_data"
		}
		if tag := f.Tag.Get("dns"); strings.Contains(tag, "domain-name") && fv.Kind() == reflect.String {
			out[key] = PresentName(fv.String())
			continue
		}
		switch fv.Kind() {
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			out[key] = fv.Uint()
		case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
			out[key] = fv.Int()
		case reflect.Bool:
			out[key] = fv.Bool()
		case reflect.String:
			out[key] = fv.String()
		default:
			if ip, ok := fv.Interface().(net.IP); ok {
				out[key] = ipString(ip)
			} else if ss, ok := fv.Interface().([]string); ok {
				out[key] = nonNil(ss)
			} else if ts, ok := fv.Interface().([]uint16); ok && strings.Contains(f.Name, "Type") {
				out[key] = typeNames(ts)
			} else {
				out[key] = fmt.Sprint(fv.Interface())
			}
		}
	}
	return out
}

func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plainName reports whether a name needs no presentation escaping.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '.' || c == '_' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
			return false
		}
	}
	return true
}
