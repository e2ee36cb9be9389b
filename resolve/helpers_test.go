package resolve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testZone answers like a small authoritative server.
func testZone(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	rr := func(s string) dns.RR {
		x, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		return x
	}
	switch {
	case q.Name == "www.example.test." && (q.Qtype == dns.TypeA || q.Qtype == dns.TypeAAAA):
		m.Answer = append(m.Answer, rr("www.example.test. 300 IN CNAME web.example.test."))
		if q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, rr("web.example.test. 300 IN A 192.0.2.10"))
		} else {
			m.Answer = append(m.Answer, rr("web.example.test. 300 IN AAAA 2001:db8::10"))
		}
	case q.Name == "example.test." && q.Qtype == dns.TypeMX:
		m.Answer = append(m.Answer, rr("example.test. 300 IN MX 10 mail.example.test."))
	case q.Name == "v4.example.test." && q.Qtype == dns.TypeA:
		m.Answer = append(m.Answer, rr("v4.example.test. 300 IN A 192.0.2.4"))
	case q.Name == "v4.example.test.":
	case q.Name == "evil.example.test." && q.Qtype == dns.TypeTXT:
		m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
			Txt: []string{"\x1b[31mred\x1b[0m", "line1\nline2", "bad\xff\xfeutf8", "bidi\u202eevil"}})
	case q.Name == "4.2.0.192.in-addr.arpa." && q.Qtype == dns.TypePTR:
		m.Answer = append(m.Answer, rr("4.2.0.192.in-addr.arpa. 300 IN PTR v4.example.test."))
	case q.Name == "servfail.example.test.":
		m.Rcode = dns.RcodeServerFailure
	default:
		m.Rcode = dns.RcodeNameError
		m.Ns = append(m.Ns, rr("example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300"))
	}
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), opt.Do())
		for _, o := range opt.Option {
			if o.Option() == dns.EDNS0NSID {
				m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: "6e73312d74657374"})
			}
		}
	}
	_ = w.WriteMsg(m)
}

// startServer runs h on 127.0.0.1 over UDP and TCP on one port and returns
// "127.0.0.1:PORT".
func startServer(t *testing.T, h dns.HandlerFunc) string {
	t.Helper()
	var pc net.PacketConn
	var l net.Listener
	for i := 0; ; i++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if i > 20 {
			t.Fatal(err)
		}
	}
	startOn(t, &dns.Server{PacketConn: pc, Handler: h})
	startOn(t, &dns.Server{Listener: l, Handler: h})
	return pc.LocalAddr().String()
}

func startOn(t *testing.T, s *dns.Server) {
	t.Helper()
	started := make(chan struct{})
	s.NotifyStartedFunc = func() { close(started) }
	errc := make(chan error, 1)
	go func() { errc <- s.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-errc:
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(); <-errc })
}

// rawUDP runs a UDP server whose replies are made by f from the query bytes
// (nil: no reply). It returns the address and a channel told of every query.
func rawUDP(t *testing.T, f func(q []byte) [][]byte) (string, chan struct{}) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan struct{}, 1<<16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			select {
			case seen <- struct{}{}:
			default:
			}
			for _, b := range f(append([]byte(nil), buf[:n]...)) {
				_, _ = pc.WriteTo(b, addr)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return pc.LocalAddr().String(), seen
}

func mustServer(t *testing.T, s string) Server {
	t.Helper()
	srv, err := ParseServer(s)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// testCert makes a self-signed certificate for 127.0.0.1 and localhost.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nettool test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}
