package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// tcpTLSServer serves TLS on loopback with a leaf for localhost and
// 127.0.0.1 signed by a fresh CA, whose PEM file it returns.
func tcpTLSServer(t *testing.T) (addr, caFile string) {
	t.Helper()
	return tcpTLSServerFor(t, []net.IP{net.ParseIP("127.0.0.1")})
}

// tcpTLSServerFor is tcpTLSServer with a leaf for localhost and these IP
// SANs (none: a name-only certificate, as most real ones are).
func tcpTLSServerFor(t *testing.T, ips []net.IP) (addr, caFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tcp test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10*24*time.Hour + time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: ips, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, NextProtos: []string{"http/1.1"}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { ln.Close() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				tc := tls.Server(c, cfg)
				if tc.Handshake() == nil {
					io.Copy(io.Discard, tc)
				}
			}()
		}
	}()
	return ln.Addr().String(), caFile
}

func TestTCPTLS(t *testing.T) {
	addr, ca := tcpTLSServer(t)
	// Unknown CA: the check fails (exit 1), the certificate is still shown.
	out, _, code := runCLI(t, "tcp", addr, "--tls")
	if code != 1 || !strings.Contains(out, "verified: no") || !strings.Contains(out, "certificate: subject CN=localhost") || !strings.Contains(out, "unknown authority") {
		t.Fatalf("no CA: exit %d\n%s", code, out)
	}
	// -k: connected, verification reported as failed, exit 0.
	out, _, code = runCLI(t, "tcp", addr, "--tls", "-k")
	if code != 0 || !strings.Contains(out, "tls: TLS 1.3 TLS_") || !strings.Contains(out, "alpn http/1.1") || !strings.Contains(out, "verified: no") || !strings.Contains(out, "issuer CN=tcp test CA") {
		t.Fatalf("-k: exit %d\n%s", code, out)
	}
	// With the CA and the right name: verified.
	out, _, code = runCLI(t, "tcp", addr, "--tls", "--cacert", ca, "--sni", "localhost", "--json")
	if code != 0 {
		t.Fatalf("--cacert: exit %d\n%s", code, out)
	}
	var doc struct {
		Results []struct {
			List []struct {
				TLS struct {
					Verified    bool   `json:"verified"`
					Version     string `json:"version"`
					ServerName  string `json:"server_name"`
					HandshakeMS float64
					Certificate struct {
						SANs     []string `json:"sans"`
						DaysLeft int      `json:"days_left"`
					} `json:"certificate"`
				} `json:"tls"`
			} `json:"attempts_list"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Results) != 1 || len(doc.Results[0].List) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	tl := doc.Results[0].List[0].TLS
	if !tl.Verified || tl.Version != "TLS 1.3" || tl.ServerName != "localhost" || tl.Certificate.DaysLeft != 10 || strings.Join(tl.Certificate.SANs, ",") != "localhost,127.0.0.1" {
		t.Fatalf("tls %+v", tl)
	}
	// The wrong name fails verification.
	out, _, code = runCLI(t, "tcp", addr, "--tls", "--cacert", ca, "--sni", "wrong.example")
	if code != 1 || !strings.Contains(out, "wrong.example") {
		t.Fatalf("wrong SNI: exit %d\n%s", code, out)
	}
}

// tcp localhost:PORT --tls verifies the certificate for "localhost", the host
// as written, and sends it as SNI (openssl s_client and curl do the same); an
// address target is verified against the IP SANs.
func TestTCPTLSNameTargetVerifiesTheName(t *testing.T) {
	addr, ca := tcpTLSServerFor(t, nil)
	_, port, _ := net.SplitHostPort(addr)
	out, errs, code := runCLI(t, "tcp", "-4", "localhost:"+port, "--tls", "--cacert", ca)
	if code != 0 || !strings.Contains(out, "verified: yes") {
		t.Fatalf("localhost: exit %d\n%s%s", code, out, errs)
	}
	out, _, code = runCLI(t, "tcp", addr, "--tls", "--cacert", ca)
	if code != 1 || !strings.Contains(out, "IP SANs") {
		t.Fatalf("address: exit %d\n%s", code, out)
	}
	// A scan of the name verifies the name too.
	out, errs, code = runCLI(t, "tcp", "-4", "localhost", "-p", port, "--tls", "--cacert", ca)
	if code != 0 || !strings.Contains(out, "verified: yes") {
		t.Fatalf("scan: exit %d\n%s%s", code, out, errs)
	}
}
