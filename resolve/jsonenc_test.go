package resolve

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The hand-written encoder writes what encoding/json would.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	type plain Result // no MarshalJSON
	m := new(dns.Msg)
	m.SetQuestion("x.example.", dns.TypeTXT)
	m.Response, m.Authoritative = true, true
	m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: "x.example.", Rrtype: dns.TypeTXT, Class: 1, Ttl: 5}, Txt: []string{"a\"b\\c", "\x01\x1b"}})
	for _, s := range []string{"x.example. 60 IN MX 10 mx.example.", "x.example. 60 IN SOA a. b. 1 2 3 4 5", "x.example. 60 IN AAAA ::1",
		"x.example. 60 IN HTTPS 1 . alpn=h2,h3 port=8443", "x.example. 60 IN SSHFP 1 2 abcdef", "x.example. 60 IN TYPE65534 \\# 2 abcd"} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	m.SetEdns0(1232, true)
	ok := &Result{Question: NewQuestion("x.example", dns.TypeTXT, 1), Server: "127.0.0.1:53", Transport: "udp", Tries: 1}
	ok.Type, ok.Target, ok.Start, ok.ElapsedMS = "dns", "x.example.", time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), 0.0000001
	ok.fill(m, 1234567*time.Nanosecond)
	ok.EDNS.NSID, ok.EDNS.EDE = "ns\u2028\xff<>&", []string{"x"}
	bad := &Result{Question: NewQuestion("y.example", dns.TypeA, 1), Server: "s", Transport: "tcp", InputName: "y"}
	bad.Type, bad.Start, bad.ElapsedMS = "dns", time.Unix(0, 0), 1e22
	bad.fail(resolveTimeoutErr{})
	bad.Malformed = "header counts 3 answer record(s), message carries 1"
	for _, r := range []*Result{ok, bad} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		p := (*plain)(r)
		if p.Answer == nil {
			p.Answer, p.Authority, p.Additional = []Record{}, []Record{}, []Record{}
		}
		if err := enc.Encode(p); err != nil {
			t.Fatal(err)
		}
		got := string(r.AppendJSON(nil)) + "\n"
		if got != want.String() {
			t.Errorf("AppendJSON:\n%s\nencoding/json:\n%s", got, want.String())
		}
	}
	// The batch's lite records write the same JSON.
	lite := &Result{}
	*lite = *ok
	lite.fillWith(m, 1234567*time.Nanosecond, true)
	lite.EDNS = ok.EDNS
	if a, b := string(lite.AppendJSON(nil)), string(ok.AppendJSON(nil)); a != b {
		t.Errorf("lite:\n%s\nfull:\n%s", a, b)
	}
	// Records: the hand-written object holds the common and typed fields.
	for _, rec := range ok.Answer {
		var got map[string]any
		if err := json.Unmarshal(rec.appendJSON(nil), &got); err != nil {
			t.Fatalf("%s: %v", rec.Data, err)
		}
		all := map[string]any{"name": rec.Name, "type": rec.Type, "class": rec.Class, "ttl": rec.TTL, "data": rec.Data}
		for k, v := range rec.Fields {
			all[k] = v
		}
		j, _ := json.Marshal(all)
		var want map[string]any
		_ = json.Unmarshal(j, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record %s:\n%v\n%v", rec.Data, got, want)
		}
	}
}

type resolveTimeoutErr struct{}

func (resolveTimeoutErr) Error() string   { return "i/o timeout" }
func (resolveTimeoutErr) Timeout() bool   { return true }
func (resolveTimeoutErr) Temporary() bool { return true }

// appendString escapes what a terminal would act on (DEL, C1, bidi
// overrides) as the shared printer does; the JSON value is unchanged.
func TestAppendStringEscapesTerminalControls(t *testing.T) {
	for _, s := range []string{"\x7f", "a\u009b2Jb", "\u0085", "x\u202ey", "\u2066\u2069\u200e\u200f\u061c", "\x1b]0;t\x07", "ok é ✓"} {
		b := appendString(nil, s)
		for _, bad := range []string{"\x7f", "\u009b", "\u0085", "\u202e", "\u2066", "\u200e", "\u061c", "\x1b", "\x07"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%q: raw %q in %s", s, bad, b)
			}
		}
		var back string
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%q: %s decodes to %q (%v)", s, b, back, err)
		}
	}
}
