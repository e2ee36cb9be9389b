package ipinfo

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

func TestParseProvider(t *testing.T) {
	good := []struct {
		in, spec string
		method   Method
	}{
		{"https://ipecho.net/plain", "https://ipecho.net/plain", MethodHTTPS},
		{"HTTP://127.0.0.1:8000/ip", "http://127.0.0.1:8000/ip", MethodHTTP},
		{"http://[::1]:8000/ip", "http://[::1]:8000/ip", MethodHTTP},
		{"http://127.0.0.1:8000/ip#frag", "http://127.0.0.1:8000/ip", MethodHTTP},
		{"dns:myip.opendns.com@resolver1.opendns.com", "dns:myip.opendns.com@resolver1.opendns.com", MethodDNS},
		{"dns:o-o.myaddr.l.google.com/TXT@ns1.google.com", "dns:o-o.myaddr.l.google.com/TXT@ns1.google.com", MethodDNS},
		{"dns:whoami.cloudflare/CH/TXT@1.1.1.1", "dns:whoami.cloudflare/CH/TXT@1.1.1.1", MethodDNS},
		{"dns:whoami.cloudflare/chaos/txt@1.1.1.1:53", "dns:whoami.cloudflare/CH/TXT@1.1.1.1", MethodDNS},
		{"dns:MyIP.Test./IN/A@127.0.0.1:5353", "dns:myip.test/A@127.0.0.1:5353", MethodDNS},
		{"dns:myip.test@[::1]:5353,127.0.0.1:5353", "dns:myip.test@[::1]:5353,127.0.0.1:5353", MethodDNS},
		{"dns:myip.test/AAAA@::1", "dns:myip.test/AAAA@::1", MethodDNS},
	}
	for _, c := range good {
		p, err := ParseProvider(c.in)
		if err != nil {
			t.Errorf("ParseProvider(%q): %v", c.in, err)
			continue
		}
		if p.Spec != c.spec || p.Method != c.method {
			t.Errorf("ParseProvider(%q) = %q %s, want %q %s", c.in, p.Spec, p.Method, c.spec, c.method)
		}
		// The canonical spec parses to itself.
		if q, err := ParseProvider(p.Spec); err != nil || q.Spec != p.Spec {
			t.Errorf("canonical %q does not round-trip: %q %v", p.Spec, q.Spec, err)
		}
	}
	bad := []string{
		"", " ", "ipecho.net/plain", "ftp://x/", "https://", "http:///ip", "http://:80/ip",
		"http://127.0.0.1:0/ip", "http://127.0.0.1:99999/ip", "http://127.0.0.1:/ip", "http://u:p@127.0.0.1/ip",
		"http://127.0.0.1/i\x00p", "http://127.0.0.1/i p", "http://[::1/ip",
		"dns:", "dns:myip.test", "dns:@127.0.0.1", "dns:myip.test@", "dns:myip.test/MX@127.0.0.1",
		"dns:myip.test/A/A@127.0.0.1", "dns:myip.test/TXT/CH@127.0.0.1", "dns:myip.test/CH/TXT/A@1.1.1.1",
		"dns:myip..test@127.0.0.1", "dns:myip.test@127.0.0.1:0", "dns:myip.test@127.0.0.1:70000",
		"dns:myip.test@[::1", "dns:myip.test@fe80::1%eth0", "dns:myip.test@1.1.1.1,", "dns:my\x1bip.test@1.1.1.1",
		"dns:" + strings.Repeat("a", 64) + ".test@1.1.1.1",
		"http://" + strings.Repeat("a", MaxSpecLen) + "/",
	}
	for _, s := range bad {
		_, err := ParseProvider(s)
		if err == nil {
			t.Errorf("ParseProvider(%q) accepted", s)
			continue
		}
		if !probe.IsUsage(err) {
			t.Errorf("ParseProvider(%q): %v is not a usage error", s, err)
		}
		if strings.ContainsAny(err.Error(), "\x1b\n") {
			t.Errorf("ParseProvider(%q): raw control bytes in %q", s, err.Error())
		}
	}
}

func TestDNSProviderFields(t *testing.T) {
	p := mustProviders(t, "dns:whoami.cloudflare/CH/TXT@1.1.1.1,[2606:4700:4700::1111]:53")[0]
	if p.Name != "whoami.cloudflare." || p.Qclass != dns.ClassCHAOS || p.Qtype != dns.TypeTXT || len(p.Servers) != 2 || p.Servers[1].Host != "2606:4700:4700::1111" || p.Servers[1].Port != 53 {
		t.Fatalf("%+v", p)
	}
	p = mustProviders(t, "dns:myip.opendns.com@resolver1.opendns.com")[0]
	if p.QtypeFor(IPv4) != dns.TypeA || p.QtypeFor(IPv6) != dns.TypeAAAA || p.Qclass != dns.ClassINET {
		t.Fatalf("type by family: %+v", p)
	}
}

// The default list is data: checked here, never contacted by any test.
func TestDefaultProviders(t *testing.T) {
	want := []string{
		"https://ipecho.net/plain",
		"https://icanhazip.com/",
		"https://ifconfig.me/ip",
		"https://api.ipify.org/",
		"https://checkip.amazonaws.com/",
		"dns:myip.opendns.com@resolver1.opendns.com",
		"dns:o-o.myaddr.l.google.com/TXT@ns1.google.com",
		"dns:whoami.cloudflare/CH/TXT@1.1.1.1,2606:4700:4700::1111",
	}
	ps := DefaultProviders()
	if len(ps) != len(want) {
		t.Fatalf("%d default providers, want %d", len(ps), len(want))
	}
	for i, p := range ps {
		if p.Spec != want[i] {
			t.Errorf("default %d = %q, want %q", i, p.Spec, want[i])
		}
		if p.Method == MethodHTTP {
			t.Errorf("default %q is plain HTTP: answers could be forged on the path", p.Spec)
		}
	}
	if ps[0].URL.Host != "ipecho.net" {
		t.Errorf("ipecho.net must come first")
	}
	if DefaultQuorum(len(ps)) != 2 || DefaultQuorum(1) != 1 {
		t.Errorf("default quorum")
	}
}
