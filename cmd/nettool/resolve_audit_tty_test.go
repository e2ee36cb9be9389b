package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// resolveAuditHostile is the evil string every field gets: ESC (a colour
// and an OSC title ended by BEL), DEL, the one-character CSI U+009B and
// the bidi override U+202E.
const resolveAuditHostile = "\x1b[31mred\x1b]0;title\x07\x7f\u009b2J\u202eevil"

// resolveAuditRaw reports the first byte sequence a terminal would act on.
func resolveAuditRaw(s string) string {
	for _, bad := range []string{"\x1b", "\x07", "\x7f", "\u009b", "\u202e"} {
		if strings.Contains(s, bad) {
			return bad
		}
	}
	return ""
}

func resolveAuditHostileZone(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	q := r.Question[0]
	hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 60}
	switch q.Qtype {
	case dns.TypeTXT:
		m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr, Txt: []string{resolveAuditHostile}})
	case dns.TypePTR:
		// A target whose label holds the hostile bytes.
		m.Answer = append(m.Answer, &dns.PTR{Hdr: hdr, Ptr: strings.ReplaceAll(resolveAuditHostile, ".", "") + ".example."})
	}
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	o.SetUDPSize(1232)
	o.Option = append(o.Option,
		&dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: hexOf(resolveAuditHostile)},
		&dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeOther, ExtraText: resolveAuditHostile})
	m.Extra = append(m.Extra, o)
	_ = w.WriteMsg(m)
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}

// TestResolveAuditHostileDataEscaped: TXT, PTR, NSID and EDE text from the
// wire reach neither the terminal nor JSON raw, in single queries and in
// batches, in every output format.
func TestResolveAuditHostileDataEscaped(t *testing.T) {
	addr := resolveStartServer(t, resolveAuditHostileZone)
	rev, err := dns.ReverseAddr("192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range [][]string{{"--no-color"}, {"--json"}, {"-o", "jsonl"}} {
		for _, q := range [][]string{{"evil.example", "TXT"}, {rev, "PTR"}} {
			args := append([]string{"resolve", q[0], q[1], "@" + addr, "--nsid", "--timeout", "5s"}, format...)
			out, errs, code := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("%v: code %d out %q err %q", args, code, out, errs)
			}
			if bad := resolveAuditRaw(out + errs); bad != "" {
				t.Errorf("%v: raw %q in output %q err %q", args, bad, out, errs)
			}
			if !strings.Contains(out, "red") || !strings.Contains(out, "evil") {
				t.Errorf("%v: data missing from %q", args, out)
			}
			if format[0] != "--no-color" {
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					var v map[string]any
					if json.Unmarshal([]byte(l), &v) != nil && !json.Valid([]byte(out)) {
						t.Errorf("%v: not JSON: %q", args, l)
					}
				}
			}
		}
		// The batch path writes its own JSON.
		in := "evil.example TXT\n" + rev + " PTR\n"
		args := append([]string{"resolve", "-f", "-", "@" + addr, "--nsid", "--timeout", "5s"}, format...)
		out, errs, code := resolveRunIn(context.Background(), in, args...)
		if code != 0 {
			t.Fatalf("%v: code %d out %q err %q", args, code, out, errs)
		}
		if bad := resolveAuditRaw(out + errs); bad != "" {
			t.Errorf("batch %v: raw %q in output %q", args, bad, out)
		}
		if !bytes.Contains([]byte(out), []byte("evil")) {
			t.Errorf("batch %v: data missing from %q", args, out)
		}
	}
}
