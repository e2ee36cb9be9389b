package ipinfo

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// The seed corpus lives in testdata/fuzz/<FuzzName>/ so plain `go test`
// replays it; the f.Add seeds below are the same kinds of input.

func FuzzParseProvider(f *testing.F) {
	for _, s := range append(append([]string{}, DefaultProviderSpecs...),
		"http://127.0.0.1:8000/ip", "http://[::1]:8000/ip", "dns:myip.test/CH/TXT@127.0.0.1:5353,[::1]:53",
		"dns:a@b", "dns:x/IN/AAAA@::1", "https://u@h/", "dns:x@[::1", "http://%41/", "dns:\\046.test@1.1.1.1") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProvider(s)
		if err != nil {
			if !probe.IsUsage(err) {
				t.Fatalf("%q: %v is not a usage error", s, err)
			}
			return
		}
		if p.Spec == "" || (p.Method == MethodDNS) != (p.Name != "") || (p.Method != MethodDNS) != (p.URL != nil) {
			t.Fatalf("%q: inconsistent %+v", s, p)
		}
		q, err := ParseProvider(p.Spec)
		if err != nil || q.Spec != p.Spec {
			t.Fatalf("%q: canonical %q does not round-trip: %q %v", s, p.Spec, q.Spec, err)
		}
		if p.Method == MethodDNS {
			if len(p.Servers) == 0 || p.QtypeFor(IPv4) == 0 || p.QtypeFor(IPv6) == 0 {
				t.Fatalf("%q: %+v", s, p)
			}
		}
	})
}

func FuzzValidateBody(f *testing.F) {
	for _, s := range []string{
		"203.0.113.7\n", "8.8.8.8", "2606:4700:4700::1111\r\n", "::ffff:1.2.3.4", "<nil>", "<html>", "192.168.1.1",
		"100.64.0.1", "fe80::1%eth0", "1.2.3.4 5.6.7.8", "\x1b[2J", "", "2001:db8::1", "Just a moment...",
	} {
		f.Add([]byte(s), true, false)
		f.Add([]byte(s), false, true)
	}
	f.Fuzz(func(t *testing.T, body []byte, v6, allowDoc bool) {
		fam := IPv4
		if v6 {
			fam = IPv6
		}
		a, err := ValidateBody(body, fam, ValidateOptions{AllowDocumentation: allowDoc})
		if err != nil {
			var ae *AnswerError
			if !errors.As(err, &ae) || ae.Code == "" {
				t.Fatalf("%q: untyped error %v", body, err)
			}
			if strings.ContainsAny(ae.Reason, "\x1b\x00\r\n\x07") {
				t.Fatalf("%q: raw control bytes in the reason %q", body, ae.Reason)
			}
			return
		}
		if FamilyOf(a) != fam || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("%q: accepted %s for %s", body, a, fam)
		}
		c := Classify(a)
		if c != ClassPublic && !(allowDoc && c == ClassDocumentation) {
			t.Fatalf("%q: accepted %s of class %s", body, a, c)
		}
		if len(body) > MaxBody {
			t.Fatalf("accepted a %d-byte body", len(body))
		}
	})
}

// FuzzDNSReply feeds arbitrary bytes as the reply to an A query and to a CH
// TXT query.
func FuzzDNSReply(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("myip.test.", dns.TypeA)
	good := new(dns.Msg)
	good.SetReply(q)
	rr, _ := dns.NewRR("myip.test. 0 IN A 203.0.113.7")
	good.Answer = append(good.Answer, rr)
	b, _ := good.Pack()
	f.Add(b, false)
	txt := new(dns.Msg)
	txt.SetQuestion("whoami.cloudflare.", dns.TypeTXT)
	txt.Question[0].Qclass = dns.ClassCHAOS
	txtReply := new(dns.Msg)
	txtReply.SetReply(txt)
	rr, _ = dns.NewRR(`whoami.cloudflare. 0 CH TXT "203.0.113.7"`)
	txtReply.Answer = append(txtReply.Answer, rr)
	b, _ = txtReply.Pack()
	f.Add(b, true)
	f.Add([]byte{0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, useTXT bool) {
		query := q
		if useTXT {
			query = txt
		}
		r := new(dns.Msg)
		if r.Unpack(data) != nil {
			return
		}
		r.Id = query.Id
		a, err := addressFromReply(query, r, IPv4, ValidateOptions{AllowDocumentation: true})
		if err != nil {
			var ae *AnswerError
			if !errors.As(err, &ae) || strings.ContainsAny(ae.Reason, "\x1b\x00\r\n") {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		if !a.Is4() || (Classify(a) != ClassPublic && Classify(a) != ClassDocumentation) || a == (netip.Addr{}) {
			t.Fatalf("accepted %s", a)
		}
	})
}
