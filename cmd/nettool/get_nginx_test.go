package main

import (
	"bytes"
	"compress/zlib"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// getFreePort asks the OS for a free loopback port.
func getFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// getWriteCert writes a certificate for names, signed by parent (self-signed
// when parent is nil), and returns it with its key.
func getWriteCert(t *testing.T, dir, name string, isCA bool, names []string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"nettool test"}},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: isCA,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

type getNginx struct {
	dir                    string
	port, tlsPort, badPort int
}

// getStartNginx runs a real nginx on loopback with gzip on, a test CA's
// certificate on one TLS port and a bad (untrusted, wrong name) one on
// another. It is killed when the test ends.
func getStartNginx(t *testing.T) *getNginx {
	t.Helper()
	bin := probetest.LookPeer(t, "nginx")
	n := &getNginx{dir: t.TempDir(), port: getFreePort(t), tlsPort: getFreePort(t), badPort: getFreePort(t)}
	www := filepath.Join(n.dir, "www")
	os.MkdirAll(filepath.Join(www, "deflate"), 0o755)
	os.WriteFile(filepath.Join(www, "hello.txt"), []byte(getNginxText), 0o644)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(getNginxText))
	zw.Close()
	os.WriteFile(filepath.Join(www, "deflate", "hello.zz"), z.Bytes(), 0o644)
	ca, caKey := getWriteCert(t, n.dir, "ca", true, nil, nil, nil)
	getWriteCert(t, n.dir, "good", false, []string{"127.0.0.1", "localhost"}, ca, caKey)
	getWriteCert(t, n.dir, "bad", false, []string{"wrong.example"}, nil, nil)
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
  access_log %[1]s/access.log;
  client_body_temp_path %[1]s/body; proxy_temp_path %[1]s/proxy; fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi; scgi_temp_path %[1]s/scgi;
  types { text/plain txt; application/x-zlib zz; }
  default_type text/plain;
  gzip on; gzip_types text/plain; gzip_min_length 1;
  server {
    listen 127.0.0.1:%[2]d;
    root %[1]s/www;
    location = /redirect { return 302 /hello.txt; }
    location /deflate/ { add_header Content-Encoding deflate; }
  }
  server { listen 127.0.0.1:%[3]d ssl; ssl_certificate %[1]s/good.pem; ssl_certificate_key %[1]s/good.key; root %[1]s/www; }
  server { listen 127.0.0.1:%[4]d ssl; ssl_certificate %[1]s/bad.pem; ssl_certificate_key %[1]s/bad.key; root %[1]s/www; }
}
`, n.dir, n.port, n.tlsPort, n.badPort)
	confPath := filepath.Join(n.dir, "nginx.conf")
	os.WriteFile(confPath, []byte(conf), 0o644)
	cmd := exec.Command(bin, "-c", confPath, "-p", n.dir, "-e", filepath.Join(n.dir, "error.log"))
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &errb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	// Poll until it answers on every port.
	deadline := time.Now().Add(15 * time.Second)
	for _, p := range []int{n.port, n.tlsPort, n.badPort} {
		for {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case err := <-exited:
				log, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
				t.Fatalf("nginx exited: %v %s %s", err, errb.String(), log)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("nginx does not answer on %d", p)
			}
		}
	}
	return n
}

var getNginxText = strings.Repeat("nettool against a real nginx: gzip, chunked, deflate.\n", 50)

func (n *getNginx) url(path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", n.port, path) }

func TestGetNginx(t *testing.T) {
	n := getStartNginx(t)
	// gzip on with an unknown compressed length: chunked framing and gzip.
	out, errs, code := runCLI(t, "get", n.url("/hello.txt"))
	if code != 0 || !strings.Contains(out, "< Content-Encoding: gzip") || !strings.Contains(out, "< Transfer-Encoding: chunked") ||
		!strings.Contains(out, fmt.Sprintf("* Body: %d bytes (decoded from ", len(getNginxText))) || !strings.Contains(out, "gzip bytes), chunked") {
		t.Fatalf("gzip+chunked: code %d err %q\n%s", code, errs, out)
	}
	body, _, code := runCLI(t, "get", "-b", n.url("/hello.txt"))
	if code != 0 || body != getNginxText {
		t.Fatalf("-b gzip: code %d body %q", code, body)
	}
	out, _, _ = runCLI(t, "get", "--raw", n.url("/hello.txt"))
	if !strings.Contains(out, "< 0\\r\\n") || !strings.Contains(out, `\x1f\x8b`) {
		t.Fatalf("--raw must show chunk framing and gzip bytes:\n%s", out)
	}
	// Without Accept-Encoding: identity with Content-Length.
	out, _, code = runCLI(t, "get", "-H", "Accept-Encoding:", n.url("/hello.txt"))
	if code != 0 || !strings.Contains(out, fmt.Sprintf("< Content-Length: %d", len(getNginxText))) || strings.Contains(out, "Accept-Encoding") {
		t.Fatalf("identity:\n%s", out)
	}
	// deflate (zlib) body.
	body, errs, code = runCLI(t, "get", "-b", n.url("/deflate/hello.zz"))
	if code != 0 || body != getNginxText {
		t.Fatalf("deflate: code %d err %q body %q", code, errs, body)
	}
	// HEAD.
	out, _, code = runCLI(t, "get", "-X", "HEAD", "-H", "Accept-Encoding:", n.url("/hello.txt"))
	if code != 0 || !strings.Contains(out, "< HTTP/1.1 200 OK") || !strings.Contains(out, "no body for this status or method") {
		t.Fatalf("HEAD:\n%s", out)
	}
	// 404 and --fail.
	out, _, code = runCLI(t, "get", n.url("/missing"))
	if code != 0 || !strings.Contains(out, "< HTTP/1.1 404 Not Found") || !strings.Contains(out, "< Server: nginx") {
		t.Fatalf("404:\n%s", out)
	}
	if _, _, code = runCLI(t, "get", "--fail", n.url("/missing")); code != 1 {
		t.Fatalf("--fail on 404: exit %d", code)
	}
	// A redirect, followed.
	out, _, code = runCLI(t, "get", "-L", n.url("/redirect"))
	if code != 0 || !strings.Contains(out, "< HTTP/1.1 302 Moved Temporarily") || !strings.Contains(out, "== hop 2: "+n.url("/hello.txt")) {
		t.Fatalf("-L:\n%s", out)
	}
	// TLS with the test CA, and a bad certificate.
	ca := filepath.Join(n.dir, "ca.pem")
	good := fmt.Sprintf("https://127.0.0.1:%d/hello.txt", n.tlsPort)
	out, errs, code = runCLI(t, "get", "--cacert", ca, good)
	if code != 0 || !strings.Contains(out, "verified: yes") || !strings.Contains(out, "certificate: CN=good,O=nettool test") || !strings.Contains(out, "ALPN http/1.1") {
		t.Fatalf("TLS good: code %d err %q\n%s", code, errs, out)
	}
	_, errs, code = runCLI(t, "get", "--cacert", ca, good, "--resolve", fmt.Sprintf("localhost:%d:127.0.0.1", n.tlsPort))
	if code != 0 {
		t.Fatalf("TLS good by IP with --resolve present: code %d err %q", code, errs)
	}
	bad := fmt.Sprintf("https://127.0.0.1:%d/hello.txt", n.badPort)
	out, errs, code = runCLI(t, "get", "--cacert", ca, bad)
	if code != 1 || !strings.Contains(errs, "certificate_error") || !strings.Contains(out, "NOT verified") || !strings.Contains(out, "wrong.example") {
		t.Fatalf("TLS bad: code %d err %q\n%s", code, errs, out)
	}
	out, _, code = runCLI(t, "get", "-k", "-b", bad)
	if code != 0 || out != getNginxText {
		t.Fatalf("TLS bad with -k: code %d", code)
	}
}
