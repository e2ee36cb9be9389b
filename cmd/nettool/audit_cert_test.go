package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// auditHostile is what a hostile certificate carries in its names: a CSI
// sequence, an OSC title change ended by BEL, a C1 CSI (U+009B) and a
// right-to-left override.
const auditHostile = "\x1b[2J\x1b]0;owned\x07\u009b31m\u202eevil"

// auditCertServer serves TLS with a self-signed certificate whose subject,
// issuer and names hold hostile bytes, answers one HTTP request with a
// hostile reason phrase, header and body, and closes.
func auditCertServer(t *testing.T) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(9),
		Subject:      pkix.Name{CommonName: "cn" + auditHostile, Organization: []string{"org" + auditHostile}},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames:    []string{"dns\x1b[31m.example"}, // IA5: ASCII only
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, NextProtos: []string{"http/1.1"}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return probetest.Serve(t, ln, func(c net.Conn, _ <-chan struct{}) {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 4096)
		if n, _ := c.Read(buf); n == 0 {
			return
		}
		body := "body" + auditHostile + "\n"
		io.WriteString(c, "HTTP/1.1 200 OK"+auditHostile+"\r\nX-Evil: "+auditHostile+"\r\nContent-Type: text/plain\r\nContent-Length: "+
			strconv.Itoa(len(body))+"\r\nConnection: close\r\n\r\n"+body)
	})
}

// auditAssertSafe fails when a raw ESC, BEL, C1 control or bidi override
// reached the terminal streams.
func auditAssertSafe(t *testing.T, what, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\x1b\x07\u009b\u202e") {
		t.Errorf("%s: raw control bytes reached the terminal:\n%q", what, s)
	}
}

// Certificate names and HTTP status, headers and body from a hostile TLS
// server reach the terminal escaped, in tcp --tls and in get.
func TestAuditHostileCertificateEscaped(t *testing.T) {
	addr := auditCertServer(t)
	out, errs, code := runCLI(t, "tcp", addr, "--tls", "-k", "--read-timeout", "10s")
	auditAssertSafe(t, "tcp --tls", out+errs)
	if code != 0 || !strings.Contains(out, `subject CN=cn\x1b[2J`) || !strings.Contains(out, `owned\x07\u009b31m\u202eevil`) || !strings.Contains(out, `dns\x1b[31m.example`) {
		t.Errorf("tcp --tls: exit %d\n%s\n%s", code, out, errs)
	}
	out, errs, code = runCLI(t, "get", "https://"+addr+"/", "-k", "-v")
	auditAssertSafe(t, "get", out+errs)
	if !strings.Contains(out+errs, `cn\x1b[2J`) || !strings.Contains(out+errs, `X-Evil: \x1b[2J`) {
		t.Errorf("get: exit %d\n%s\n%s", code, out, errs)
	}
	// JSON for scripts, which may still be printed on a terminal: C1 and
	// bidi characters are \u escapes there too.
	for _, args := range [][]string{{"tcp", addr, "--tls", "-k", "--json"}, {"get", "https://" + addr + "/", "-k", "--json"}, {"get", "https://" + addr + "/", "-k", "-o", "jsonl"}} {
		out, errs, _ := runCLI(t, args...)
		auditAssertSafe(t, strings.Join(args, " "), out+errs)
		if !strings.Contains(out, `\u009b31m\u202eevil`) {
			t.Errorf("%q: %s", args, out)
		}
	}
}
