package resolve

import (
	"encoding/hex"
	"testing"

	"github.com/miekg/dns"
)

// FuzzUnpackReply: any bytes from the network unpack (or fail) without a
// panic, and every record that comes out is written in presentation form
// and as JSON without one; an SVCB's data read by svcbFromRdata never
// panics either.
func FuzzUnpackReply(f *testing.F) {
	for _, s := range []string{
		"x. 60 IN SVCB 1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1",
		"x. 60 IN HTTPS 1 . no-default-alpn ech=AEX+DQ== key65000=hi",
		"x. 60 IN LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
		`a\032b.x. 60 IN PTR \$x.example.`,
		"x. 60 IN TLSA 3 1 1 0c72ac70",
		"x. 60 IN TYPE65000 \\# 4 0A000001",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			f.Fatal(err)
		}
		m := new(dns.Msg)
		m.SetQuestion("x.", rr.Header().Rrtype)
		m.Response = true
		m.Answer = []dns.RR{rr}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := unpackReply(b)
		if err == nil {
			for _, rr := range append(append(m.Answer, m.Ns...), m.Extra...) {
				rec := NewRecord(rr)
				_ = rec.appendJSON(nil)
			}
		}
		_, _, _, _ = svcbFromRdata(b)
		if len(b) > 0 {
			_ = PresentName(hex.EncodeToString(b[:min(len(b), 20)]) + `\` + string(b[:1]) + ".")
		}
	})
}
