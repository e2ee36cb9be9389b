package ipinfo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/goleak"

	"github.com/nettool/nettool/probe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var docOK = ValidateOptions{AllowDocumentation: true}

// generous is the timeout of calls that must succeed: the machine is shared.
const generous = 30 * time.Second

func discover4(t *testing.T, quorum int, timeout time.Duration, specs ...string) External {
	t.Helper()
	res := Discover(context.Background(), Options{
		Providers: mustProviders(t, specs...),
		Families:  []Family{IPv4},
		Quorum:    quorum,
		Timeout:   timeout,
		Validate:  docOK,
		NoProxy:   true,
	})
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	return res[0]
}

func TestDiscoverAgree(t *testing.T) {
	a, stopA := fakeHTTP(t, answerHTTP("203.0.113.7\n"))
	defer stopA()
	b, stopB := fakeHTTP(t, answerHTTP("203.0.113.7"))
	defer stopB()
	x := discover4(t, 0, generous, a, b)
	if !x.OK || x.Address != "203.0.113.7" || x.Agreeing != 2 || x.Quorum != 2 || x.Asked != 2 || x.Class != ClassDocumentation {
		t.Fatalf("%+v", x)
	}
	for _, ans := range x.Answers {
		if !ans.OK || !ans.Agrees || ans.Method != MethodHTTP || ans.HTTPStatus != 200 || !strings.HasPrefix(ans.Server, "127.0.0.1:") || !strings.HasPrefix(ans.Local, "127.0.0.1:") {
			t.Errorf("answer %+v", ans)
		}
	}
}

func TestDiscoverLiarOutvoted(t *testing.T) {
	// The honest providers answer only after the liar's server has sent its
	// answer. The client may still take the two honest answers first (the
	// quorum then cancels the liar's call, which is right, and is another
	// test): such a round does not test outvoting and is run again, a
	// bounded number of times.
	for round := 1; ; round++ {
		liarServed := make(chan struct{})
		var once sync.Once
		liar, stopL := fakeHTTP(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("198.51.100.66\n"))
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			once.Do(func() { close(liarServed) })
		})
		honest := func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-liarServed:
			case <-r.Context().Done():
				return
			}
			_, _ = w.Write([]byte("203.0.113.7\n"))
		}
		a, stopA := fakeHTTP(t, honest)
		b, stopB := fakeHTTP(t, honest)
		x := discover4(t, 2, generous, liar, a, b)
		stopL()
		stopA()
		stopB()
		if x.Answers[0].Failure == probe.FailCanceled && round < 20 {
			continue
		}
		if !x.OK || x.Address != "203.0.113.7" || x.Agreeing != 2 || len(x.Dissent) != 1 || x.Dissent[0] != "198.51.100.66" {
			t.Fatalf("%+v", x)
		}
		if !x.Answers[0].OK || x.Answers[0].Agrees || x.Answers[0].Address != "198.51.100.66" {
			t.Fatalf("liar's answer: %+v", x.Answers[0])
		}
		return
	}
}

func TestDiscoverDisagree(t *testing.T) {
	a, stopA := fakeHTTP(t, answerHTTP("203.0.113.7\n"))
	defer stopA()
	b, stopB := fakeHTTP(t, answerHTTP("198.51.100.66\n"))
	defer stopB()
	x := discover4(t, 0, generous, a, b)
	if x.OK || x.Failure != probe.FailNoConsensus || !strings.Contains(x.Error, "disagree") || x.Valid != 2 {
		t.Fatalf("%+v", x)
	}
}

// Each kind of lie is rejected with its code; none counts.
func TestDiscoverRejects(t *testing.T) {
	type tc struct {
		name string
		h    http.HandlerFunc
		code string
	}
	big := strings.Repeat("8", MaxBody*4)
	redirectHit := atomic.Int32{}
	target, stopT := fakeHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		redirectHit.Add(1)
		_, _ = w.Write([]byte("203.0.113.7"))
	})
	defer stopT()
	cases := []tc{
		{"html", answerHTTP("<!doctype html><html><body>Your IP is 203.0.113.7</body></html>"), FailHTMLPage},
		{"challenge", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(403)
			_, _ = w.Write([]byte("<html><title>Just a moment...</title></html>"))
		}, FailHTTPStatus},
		{"private", answerHTTP("192.168.1.1\n"), FailNotPublic},
		{"loopback", answerHTTP("127.0.0.1\n"), FailNotPublic},
		{"linklocal", answerHTTP("169.254.7.7\n"), FailNotPublic},
		{"cgnat", answerHTTP("100.64.1.1\n"), FailNotPublic},
		{"wrong family", answerHTTP("2001:db8::7\n"), FailWrongFamily},
		{"nil", answerHTTP("<nil>"), FailHTMLPage},
		{"two", answerHTTP("203.0.113.7\n203.0.113.8\n"), FailNotAnAddress},
		{"big", answerHTTP(big), FailTooLarge},
		{"status", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "203.0.113.7", 500) }, FailHTTPStatus},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusFound) }, FailRedirect},
	}
	var specs []string
	for _, c := range cases {
		u, stop := fakeHTTP(t, c.h)
		defer stop()
		specs = append(specs, u)
	}
	x := discover4(t, 1, generous, specs...)
	if x.OK || x.Valid != 0 || !strings.Contains(x.Error, "no valid IPv4 answer") {
		t.Fatalf("%+v", x)
	}
	for i, c := range cases {
		a := x.Answers[i]
		if a.OK || a.Failure != c.code || a.Error == "" {
			t.Errorf("%s: %+v, want failure %s", c.name, a, c.code)
		}
		if strings.ContainsAny(a.Error+a.Body, "\x1b\n\r") {
			t.Errorf("%s: raw control bytes in %q %q", c.name, a.Error, a.Body)
		}
	}
	if redirectHit.Load() != 0 {
		t.Errorf("the redirect was followed")
	}
}

// A provider that never answers ends with a timeout, after the --timeout
// given, not the default.
func TestDiscoverStallTimesOut(t *testing.T) {
	u, stop := fakeHTTP(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	defer stop()
	x := discover4(t, 1, 150*time.Millisecond, u)
	if x.OK || x.Answers[0].Failure != probe.FailTimeout || !strings.Contains(x.Answers[0].Error, "timeout") {
		t.Fatalf("%+v", x)
	}
}

// A TCP peer that accepts and stays silent, and a UDP peer that never
// answers: both end by the timeout.
func TestDiscoverSilentPeers(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	x := discover4(t, 1, 150*time.Millisecond, "http://"+ln.Addr().String()+"/ip", "dns:myip.test@"+pc.LocalAddr().String())
	for _, a := range x.Answers {
		if a.OK || a.Failure != probe.FailTimeout {
			t.Errorf("%+v", a)
		}
	}
	ln.Close()
	for c := range accepted {
		c.Close()
	}
}

// Once the quorum agrees, the rest are cancelled: the stalled provider's
// handler sees its request end, and no goroutine is left behind.
func TestDiscoverQuorumCancelsRest(t *testing.T) {
	defer goleak.VerifyNone(t)
	started, cancelled := make(chan struct{}), make(chan struct{})
	stalled, stopS := fakeHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		close(cancelled)
	})
	defer stopS()
	silentDNS, stopD := fakeDNS(t, func(w dns.ResponseWriter, q *dns.Msg) {}, false)
	defer stopD()
	a, stopA := fakeHTTP(t, answerHTTP("203.0.113.7\n"))
	defer stopA()
	b, stopB := fakeDNS(t, dnsAnswer("$NAME 60 IN A 203.0.113.7"), false)
	defer stopB()
	start := time.Now()
	x := discover4(t, 2, time.Hour, stalled, "dns:myip.test@"+silentDNS, a, "dns:myip.test@"+b)
	if !x.OK || x.Address != "203.0.113.7" || x.Agreeing != 2 {
		t.Fatalf("%+v", x)
	}
	for _, i := range []int{0, 1} {
		if x.Answers[i].Failure != FailCanceled || !strings.Contains(x.Answers[i].Error, "quorum was reached") {
			t.Errorf("stalled provider %d: %+v", i, x.Answers[i])
		}
	}
	// With a one-hour timeout, returning at all shows nettool did not wait.
	if d := time.Since(start); d > generous {
		t.Fatalf("took %s", d)
	}
	// On a loaded machine the quorum can come before the stalled request
	// reaches its server at all; once it has, it must be cancelled.
	select {
	case <-started:
	case <-time.After(2 * time.Second):
		return // never sent: cancelled before it left
	}
	select {
	case <-cancelled:
	case <-time.After(generous):
		t.Fatal("the stalled provider's request was never cancelled")
	}
}

// When no address can reach the quorum any more, the vote ends without
// waiting for the stalled provider.
func TestDiscoverGivesUpEarly(t *testing.T) {
	stalled, stopS := fakeHTTP(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	defer stopS()
	a, stopA := fakeHTTP(t, answerHTTP("192.168.1.1"))
	defer stopA()
	b, stopB := fakeHTTP(t, answerHTTP("<html>"))
	defer stopB()
	x := discover4(t, 2, time.Hour, a, b, stalled)
	if x.OK || x.Answers[2].Failure != FailCanceled || !strings.Contains(x.Answers[2].Error, "could no longer be reached") {
		t.Fatalf("%+v", x)
	}
}

func TestDiscoverInterrupted(t *testing.T) {
	started := make(chan struct{})
	stalled, stopS := fakeHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})
	defer stopS()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	res := Discover(ctx, Options{Providers: mustProviders(t, stalled), Families: []Family{IPv4}, Timeout: time.Hour})
	if res[0].OK || res[0].Failure != probe.FailCanceled || res[0].Answers[0].Error != "interrupted" {
		t.Fatalf("%+v", res[0])
	}
}

func TestDiscoverDNS(t *testing.T) {
	cases := []struct {
		name    string
		spec    string // %s is the server
		h       dns.HandlerFunc
		tcp     bool
		want    string // address or failure code
		wantErr string
	}{
		{"A", "dns:myip.test@%s", dnsAnswer("$NAME 0 IN A 203.0.113.7"), false, "203.0.113.7", ""},
		{"google TXT", "dns:o-o.myaddr.test/TXT@%s", dnsAnswer(`$NAME 60 IN TXT "edns0-client-subnet 203.0.113.0/24"`, `$NAME 60 IN TXT "203.0.113.7"`), false, "203.0.113.7", ""},
		{"cloudflare CH TXT", "dns:whoami.cloudflare/CH/TXT@%s", dnsAnswer(`$NAME 0 CH TXT "203.0.113.7"`), false, "203.0.113.7", ""},
		{"CNAME chain", "dns:myip.test@%s", dnsAnswer("$NAME 0 IN CNAME other.test.", "other.test. 0 IN A 203.0.113.7"), false, "203.0.113.7", ""},
		{"other name ignored", "dns:myip.test@%s", dnsAnswer("evil.test. 0 IN A 203.0.113.66"), false, FailNoAnswer, "no A record"},
		{"class mismatch ignored", "dns:whoami.cloudflare/CH/TXT@%s", dnsAnswer(`$NAME 0 IN TXT "203.0.113.7"`), false, FailNoAnswer, ""},
		{"two addresses", "dns:myip.test@%s", dnsAnswer("$NAME 0 IN A 203.0.113.7", "$NAME 0 IN A 203.0.113.8"), false, FailNotAnAddress, "2 different addresses"},
		{"private", "dns:myip.test@%s", dnsAnswer("$NAME 0 IN A 10.1.1.1"), false, FailNotPublic, "private"},
		{"TXT junk", "dns:o-o.myaddr.test/TXT@%s", dnsAnswer(`$NAME 60 IN TXT "\027[2Jhello"`), false, FailNotAnAddress, `027[2Jhello`},
		{"wrong family", "dns:myip.test/TXT@%s", dnsAnswer(`$NAME 0 IN TXT "2001:db8::7"`), false, FailWrongFamily, ""},
		{"NXDOMAIN", "dns:myip.test@%s", func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetRcode(q, dns.RcodeNameError)
			_ = w.WriteMsg(m)
		}, false, probe.FailDNSNXDomain, "NXDOMAIN"},
		{"SERVFAIL", "dns:myip.test@%s", func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetRcode(q, dns.RcodeServerFailure)
			_ = w.WriteMsg(m)
		}, false, probe.FailDNSServFail, ""},
		{"spoofed first", "dns:myip.test@%s", func(w dns.ResponseWriter, q *dns.Msg) {
			// A reply with the wrong ID, then garbage, then the real one:
			// only the real one counts.
			bad := new(dns.Msg)
			bad.SetReply(q)
			bad.Id = q.Id + 1
			rr, _ := dns.NewRR(q.Question[0].Name + " 0 IN A 198.51.100.66")
			bad.Answer = append(bad.Answer, rr)
			_ = w.WriteMsg(bad)
			_, _ = w.Write([]byte{0xde, 0xad})
			dnsAnswer("$NAME 0 IN A 203.0.113.7")(w, q)
		}, false, "203.0.113.7", ""},
		{"truncated then TCP", "dns:myip.test@%s", func(w dns.ResponseWriter, q *dns.Msg) {
			if w.LocalAddr().Network() == "udp" {
				m := new(dns.Msg)
				m.SetReply(q)
				m.Truncated = true
				_ = w.WriteMsg(m)
				return
			}
			dnsAnswer("$NAME 0 IN A 203.0.113.7")(w, q)
		}, true, "203.0.113.7", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr, stop := fakeDNS(t, c.h, c.tcp)
			defer stop()
			spec := strings.Replace(c.spec, "%s", addr, 1)
			x := discover4(t, 1, generous, spec)
			a := x.Answers[0]
			got := a.Address
			if !a.OK {
				got = a.Failure
			}
			if got != c.want || !strings.Contains(a.Error, c.wantErr) || a.Method != MethodDNS || a.Server != addr {
				t.Fatalf("%s: %+v, want %s (%q)", spec, a, c.want, c.wantErr)
			}
		})
	}
}

// The IPv6 dial is forced: an IPv4-only provider cannot be asked over IPv6,
// and a provider on ::1 answers over IPv6.
func TestDiscoverFamilies(t *testing.T) {
	v4, stop := fakeHTTP(t, answerHTTP("203.0.113.7"))
	defer stop()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		probe6Unavailable(t, err)
		return
	}
	srv := &http.Server{Handler: answerHTTP("2001:db8::7\n")}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	defer func() { srv.Close(); <-done }()
	v6 := "http://" + ln.Addr().String() + "/ip"
	res := Discover(context.Background(), Options{
		Providers: mustProviders(t, v4, v6),
		Families:  []Family{IPv4, IPv6},
		Quorum:    1,
		Timeout:   generous,
		Validate:  docOK,
	})
	if !res[0].OK || res[0].Address != "203.0.113.7" || res[0].Family != "ipv4" {
		t.Errorf("IPv4: %+v", res[0])
	}
	if !res[1].OK || res[1].Address != "2001:db8::7" || res[1].Family != "ipv6" {
		t.Errorf("IPv6: %+v", res[1])
	}
	if a := res[1].Answers[0]; a.Failure != FailUnusable && a.Failure != FailCanceled {
		t.Errorf("IPv4 literal asked over IPv6: %+v", a)
	}
}

func probe6Unavailable(t *testing.T, err error) {
	t.Helper()
	t.Skipf("NOT RUN: no ::1 on this host: %v", err)
}

// https providers: a trusted certificate gives a valid answer with its TLS
// version; an untrusted one is a certificate error, never an answer.
func TestDiscoverHTTPS(t *testing.T) {
	good := httptest.NewTLSServer(answerHTTP("203.0.113.7\n"))
	defer good.Close()
	other := httptest.NewUnstartedServer(answerHTTP("203.0.113.7\n"))
	other.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	other.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	other.StartTLS()
	defer other.Close()
	pool := x509.NewCertPool()
	pool.AddCert(good.Certificate())
	res := Discover(context.Background(), Options{
		Providers: mustProviders(t, good.URL+"/ip", other.URL+"/ip"),
		Families:  []Family{IPv4},
		Quorum:    1,
		Timeout:   generous,
		Validate:  docOK,
		RootCAs:   pool,
	})
	x := res[0]
	if !x.OK || x.Address != "203.0.113.7" {
		t.Fatalf("%+v", x)
	}
	if a := x.Answers[0]; !a.OK || a.Method != MethodHTTPS || !strings.HasPrefix(a.TLS, "TLS 1.") {
		t.Errorf("trusted: %+v", a)
	}
	// The untrusted one either failed on its certificate or was cancelled
	// once the trusted one had answered; it never counts.
	if a := x.Answers[1]; a.OK || (a.Failure != probe.FailCertificate && a.Failure != FailCanceled) {
		t.Errorf("untrusted: %+v", a)
	}
	res = Discover(context.Background(), Options{
		Providers: mustProviders(t, other.URL+"/ip"),
		Families:  []Family{IPv4},
		Timeout:   generous,
		Validate:  docOK,
		RootCAs:   pool,
	})
	if a := res[0].Answers[0]; a.OK || a.Failure != probe.FailCertificate {
		t.Errorf("untrusted alone: %+v", a)
	}
}

// selfSigned makes a certificate for 127.0.0.1 that nothing trusts.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "untrusted"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// A provider that drips its body byte by byte, or sends endless headers,
// cannot hold nettool past the timeout nor fill its memory.
func TestDiscoverDripAndHugeHeaders(t *testing.T) {
	drip, stopD := fakeHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
				_, _ = w.Write([]byte(" "))
				w.(http.Flusher).Flush()
			}
		}
	})
	defer stopD()
	huge, stopH := fakeHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 64; i++ {
			w.Header().Add(fmt.Sprintf("X-Junk-%d", i), strings.Repeat("a", 1024))
		}
		_, _ = w.Write([]byte("203.0.113.7"))
	})
	defer stopH()
	x := discover4(t, 1, 300*time.Millisecond, drip)
	if a := x.Answers[0]; a.OK || a.Failure != probe.FailTimeout {
		t.Errorf("drip: %+v", a)
	}
	x = discover4(t, 1, generous, huge)
	if a := x.Answers[0]; a.OK || !strings.Contains(a.Error, "header") {
		t.Errorf("huge headers: %+v", a)
	}
}

// Provider and DNS-server names are resolved (through Options.Resolver,
// pointed here at a loopback DNS server), in the asked family.
func TestDiscoverResolvesNames(t *testing.T) {
	zone, stopZ := fakeDNS(t, func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		if q.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR(q.Question[0].Name + " 0 IN A 127.0.0.1")
			m.Answer = append(m.Answer, rr)
		}
		_ = w.WriteMsg(m)
	}, true)
	defer stopZ()
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, zone)
	}}
	web, stopW := fakeHTTP(t, answerHTTP("203.0.113.7\n"))
	defer stopW()
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(web, "http://"), "/ip"))
	ns, stopN := fakeDNS(t, dnsAnswer("$NAME 0 IN A 203.0.113.7"), false)
	defer stopN()
	_, nsPort, _ := net.SplitHostPort(ns)
	x := Discover(context.Background(), Options{
		Providers: mustProviders(t, "http://myip.example:"+port+"/ip", "dns:myip.test@ns.example:"+nsPort),
		Families:  []Family{IPv4},
		Timeout:   generous,
		Validate:  docOK,
		Resolver:  res,
		NoProxy:   true,
	})[0]
	if !x.OK || x.Agreeing != 2 {
		t.Fatalf("%+v", x)
	}
	if x.Answers[1].Server != ns {
		t.Errorf("dns server resolved to %s, want %s", x.Answers[1].Server, ns)
	}
}
