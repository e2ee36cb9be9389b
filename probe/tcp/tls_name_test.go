package tcp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nettool/nettool/probe"
)

// sniServer is a TLS server that records the server name each client sent.
type sniServer struct {
	*testServer
	mu    sync.Mutex
	names []string
}

func startSNIServer(t *testing.T, cert tls.Certificate) *sniServer {
	s := &sniServer{}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			s.mu.Lock()
			s.names = append(s.names, h.ServerName)
			s.mu.Unlock()
			return nil, nil
		},
	}
	s.testServer = startServer(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		tc.SetDeadline(time.Now().Add(30 * time.Second))
		if tc.Handshake() == nil {
			io.Copy(io.Discard, tc)
		}
	})
	return s
}

func (s *sniServer) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.names...)
}

// nameOnlyCert is a leaf for "localhost" only (no IP SANs), signed by a CA.
func nameOnlyCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "name test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// selfSignedCert is a certificate for localhost and 127.0.0.1 that signed
// itself, as openssl req -x509 makes them.
func selfSignedCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// A target written as a name is verified against that name and sends it as
// SNI, as openssl s_client and curl do; an address sends no SNI and is
// verified against the IP SANs.
func TestTLSServerNameIsTheHostAsWritten(t *testing.T) {
	cert, pool := nameOnlyCert(t)
	srv := startSNIServer(t, cert)
	o := Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, Host: "localhost", TLS: &TLSOptions{Roots: pool}}
	at := Dial(context.Background(), srv.AddrPort(), 0, o)
	if !at.OK || at.TLS == nil || !at.TLS.Verified || at.TLS.ServerName != "localhost" || at.TLS.VerifyError != "" {
		t.Fatalf("name target: %+v tls %+v", at, at.TLS)
	}
	// A final dot is the same name.
	o.Host = "localhost."
	if at := Dial(context.Background(), srv.AddrPort(), 0, o); !at.OK || !at.TLS.Verified || at.TLS.ServerName != "localhost" {
		t.Fatalf("localhost.: %+v tls %+v", at, at.TLS)
	}
	// --sni still wins over the host.
	o.Host, o.TLS = "localhost", &TLSOptions{Roots: pool, ServerName: "other.example"}
	if at := Dial(context.Background(), srv.AddrPort(), 0, o); at.OK || at.Failure != probe.FailCertificate || !strings.Contains(at.TLS.VerifyError, "other.example") {
		t.Fatalf("--sni: %+v tls %+v", at, at.TLS)
	}
	// An address: no SNI, and this certificate has no IP SANs.
	o.Host, o.TLS = "127.0.0.1", &TLSOptions{Roots: pool}
	at = Dial(context.Background(), srv.AddrPort(), 0, o)
	if at.OK || at.Failure != probe.FailCertificate || !strings.Contains(at.TLS.VerifyError, "IP SANs") || at.TLS.ServerName != "" {
		t.Fatalf("address target: %+v tls %+v", at, at.TLS)
	}
	if got := strings.Join(srv.sent(), ","); got != "localhost,localhost,other.example," {
		t.Fatalf("SNI sent: %q", got)
	}
}

// A scan's open ports are verified against the host as written too.
func TestScanTLSServerNameIsTheHost(t *testing.T) {
	cert, pool := nameOnlyCert(t)
	srv := startSNIServer(t, cert)
	var got []PortResult
	_, err := Scan(context.Background(), ScanOptions{
		Hosts: []ScanHost{{Name: "localhost", Addr: netip.MustParseAddr("127.0.0.1")}}, Ports: portList(t, srv.AddrPort()),
		Timeout: 10 * time.Second, Conn: Options{ReadTimeout: 10 * time.Second, TLS: &TLSOptions{Roots: pool}},
	}, func(r PortResult) { got = append(got, r) })
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %+v", err, got)
	}
	if r := got[0]; r.State != StateOpen || r.Failure != "" || r.TLS == nil || !r.TLS.Verified || r.TLS.ServerName != "localhost" {
		t.Fatalf("%+v tls %+v", r, r.TLS)
	}
}

// A self-signed certificate is named as such, with and without -k.
func TestTLSSelfSignedSaysSo(t *testing.T) {
	srv := startSNIServer(t, selfSignedCert(t))
	for _, insecure := range []bool{false, true} {
		at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, Host: "localhost", TLS: &TLSOptions{Insecure: insecure}})
		if at.OK != insecure || at.TLS == nil || at.TLS.Verified || !strings.HasPrefix(at.TLS.VerifyError, "self-signed certificate") || !strings.Contains(at.TLS.VerifyError, "unknown authority") {
			t.Fatalf("-k=%v: %+v tls %+v", insecure, at, at.TLS)
		}
		if !insecure && (at.Failure != probe.FailCertificate || !strings.Contains(at.Error, "self-signed")) {
			t.Fatalf("failure: %+v", at)
		}
	}
	// A leaf signed by an unknown CA is not called self-signed.
	cert, _ := nameOnlyCert(t)
	srv2 := startSNIServer(t, cert)
	at := Dial(context.Background(), srv2.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, Host: "localhost", TLS: &TLSOptions{}})
	if at.OK || strings.Contains(at.TLS.VerifyError, "self-signed") || !strings.Contains(at.TLS.VerifyError, "unknown authority") {
		t.Fatalf("CA-signed: %+v", at.TLS)
	}
}

func TestDefaultServerName(t *testing.T) {
	for in, want := range map[string]string{"localhost": "localhost", "Example.COM.": "Example.COM", "127.0.0.1": "", "::1": "", "[::1]": "", "fe80::1%eth0": "", "": ""} {
		if got := DefaultServerName(in); got != want {
			t.Errorf("DefaultServerName(%q) = %q, want %q", in, got, want)
		}
	}
}
