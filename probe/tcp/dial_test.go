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
	"syscall"
	"testing"
	"time"

	"github.com/nettool/nettool/probe"
)

func TestDialOpenShowsLocalPort(t *testing.T) {
	srv := startServer(t, nil)
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		at := Dial(context.Background(), srv.AddrPort(), i, Options{Timeout: 10 * time.Second})
		if !at.OK || at.State != StateOpen || at.Type != "tcp_attempt" || at.Seq != i {
			t.Fatalf("attempt %d: %+v", i, at)
		}
		la, err := netip.ParseAddrPort(at.LocalAddress)
		if err != nil || la.Addr().String() != "127.0.0.1" || la.Port() == 0 || la.Port() == srv.AddrPort().Port() {
			t.Fatalf("local address %q", at.LocalAddress)
		}
		seen[at.LocalAddress] = true
		if at.Connect() <= 0 || at.ConnectMS < 0 {
			t.Fatalf("connect time %v", at.Connect())
		}
	}
	if len(seen) != 3 {
		t.Errorf("the OS should pick a new local port per connection: %v", seen)
	}
}

func TestDialClosed(t *testing.T) {
	at := Dial(context.Background(), closedPort(t), 0, Options{Timeout: 10 * time.Second})
	if at.OK || at.State != StateClosed || at.Failure != probe.FailConnRefused || at.LocalAddress != "" {
		t.Fatalf("closed port: %+v", at)
	}
}

func TestStateOf(t *testing.T) {
	cases := map[error]string{
		nil:                                     StateOpen,
		syscall.ECONNREFUSED:                    StateClosed,
		syscall.EHOSTUNREACH:                    StateFiltered,
		syscall.ENETUNREACH:                     StateFiltered,
		context.DeadlineExceeded:                StateFiltered,
		syscall.EMFILE:                          StateError,
		syscall.EADDRNOTAVAIL:                   StateError,
		context.Canceled:                        StateError,
		io.ErrClosedPipe:                        StateError,
		&net.OpError{Err: syscall.ECONNREFUSED}: StateClosed,
	}
	for err, want := range cases {
		if got := StateOf(err); got != want {
			t.Errorf("StateOf(%v) = %q, want %q", err, got, want)
		}
	}
	if IsLocal(syscall.ECONNREFUSED) || !IsLocal(&net.OpError{Err: syscall.EMFILE}) {
		t.Error("IsLocal")
	}
}

// A hostile server: escape sequences, NUL, invalid UTF-8 and a bidi
// override in its greeting. The banner is kept, escaped.
func TestBannerControlBytes(t *testing.T) {
	srv := startServer(t, func(c net.Conn) {
		c.Write([]byte("220 hi\x1b[2J\x1b]0;pwned\x07\x00\xff\u202e\r\n"))
		io.Copy(io.Discard, c)
	})
	at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, Banner: true})
	if !at.OK || at.Banner == nil {
		t.Fatalf("%+v", at)
	}
	want := `220 hi\x1b[2J\x1b]0;pwned\x07\x00\xff\u202e\r\n`
	if at.Banner.Text != want || at.Banner.End != "newline" || at.Banner.Bytes != 27 {
		t.Fatalf("banner %+v, want text %q", at.Banner, want)
	}
	if strings.ContainsAny(at.Banner.Text, "\x1b\x00\x07\r\n") {
		t.Fatal("raw control byte in banner text")
	}
}

// A server that never stops talking: the read ends at the cap.
func TestBannerEndlessDataIsCapped(t *testing.T) {
	srv := startServer(t, func(c net.Conn) {
		buf := []byte(strings.Repeat("A", 8192))
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 30 * time.Second, Banner: true, MaxBytes: 1000})
	if !at.OK || at.Banner == nil || at.Banner.Bytes != 1000 || !at.Banner.Truncated || at.Banner.End != "cap" {
		t.Fatalf("banner: %+v", at.Banner)
	}
}

// A server that drips a byte now and then without a newline: the deadline
// ends the read.
func TestBannerSilentServerEndsAtDeadline(t *testing.T) {
	stop := make(chan struct{})
	srv := startServer(t, func(c net.Conn) {
		c.Write([]byte("x"))
		<-stop
	})
	defer close(stop)
	at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 200 * time.Millisecond, Banner: true})
	if !at.OK || at.Banner == nil || at.Banner.End != "timeout" || at.Banner.Text != "x" {
		t.Fatalf("banner: %+v", at.Banner)
	}
}

func echoHandler(c net.Conn) {
	buf := make([]byte, 16)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			c.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func TestSendReadsTheEcho(t *testing.T) {
	srv := startServer(t, echoHandler)
	msg := "This is the message.  It will be repeated."
	at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, Send: []byte(msg)})
	if !at.OK || at.Sent == nil || at.Sent.Bytes != len(msg) || at.Reply == nil {
		t.Fatalf("%+v", at)
	}
	if at.Reply.Text != msg || at.Reply.Bytes != len(msg) || at.Reply.End != "complete" {
		t.Fatalf("reply %+v", at.Reply)
	}
}

func TestSendToServerThatCloses(t *testing.T) {
	srv := startServer(t, func(c net.Conn) {
		io.ReadFull(c, make([]byte, len("hello there"))) // read it all, so closing sends FIN, not RST
		c.Write([]byte("bye\n"))
	})
	at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, Send: []byte("hello there")})
	if !at.OK || at.Reply == nil || at.Reply.Text != `bye\n` || at.Reply.End != "eof" {
		t.Fatalf("%+v reply %+v", at, at.Reply)
	}
}

// Interrupting a read (Ctrl-C) ends it at once.
func TestConverseCancel(t *testing.T) {
	stop := make(chan struct{})
	srv := startServer(t, func(c net.Conn) { <-stop })
	defer close(stop)
	conn, err := net.Dial("tcp", srv.AddrPort().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Attempt)
	go func() {
		var at Attempt
		Converse(ctx, conn, srv.AddrPort(), &at, Options{ReadTimeout: time.Hour, Banner: true})
		done <- at
	}()
	cancel()
	select {
	case at := <-done:
		if at.Banner == nil || at.Banner.End != "timeout" || at.Banner.Bytes != 0 {
			t.Fatalf("banner %+v", at.Banner)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Converse did not end after cancel")
	}
}

// testCert makes a CA and a leaf for 127.0.0.1 and "localhost" signed by it.
func testCert(t *testing.T, notAfter time.Time) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nettool test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1234), Subject: pkix.Name{CommonName: "localhost", Organization: []string{"nettool\x1b[31m"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, pool
}

func startTLSServer(t *testing.T, cert tls.Certificate) *testServer {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	return startServer(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		tc.SetDeadline(time.Now().Add(30 * time.Second))
		if tc.Handshake() == nil {
			tc.Write([]byte("hello over tls\n"))
		}
		io.Copy(io.Discard, tc)
	})
}

func TestTLSVerifiedWithCA(t *testing.T) {
	cert, pool := testCert(t, time.Now().Add(30*24*time.Hour+time.Hour))
	srv := startTLSServer(t, cert)
	at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, Banner: true,
		TLS: &TLSOptions{ServerName: "localhost", Roots: pool, ALPN: []string{"h2", "http/1.1"}}})
	if !at.OK || at.TLS == nil {
		t.Fatalf("%+v", at)
	}
	ti := at.TLS
	if !ti.Verified || ti.VerifyError != "" || ti.Version != "TLS 1.3" || ti.ALPN != "h2" || ti.Cipher == "" || ti.ChainLength != 2 || ti.HandshakeMS <= 0 {
		t.Fatalf("tls %+v", ti)
	}
	ci := ti.Certificate
	if ci == nil || !strings.Contains(ci.Subject, "CN=localhost") || ci.Issuer != "CN=nettool test CA" || ci.DaysLeft != 30 || ci.Serial != "1234" ||
		strings.Join(ci.SANs, ",") != "localhost,127.0.0.1" || len(ci.SHA256) != 64 {
		t.Fatalf("cert %+v", ci)
	}
	if at.Banner == nil || at.Banner.Text != `hello over tls\n` {
		t.Fatalf("banner over TLS: %+v", at.Banner)
	}
}

func TestTLSUnknownAuthority(t *testing.T) {
	cert, _ := testCert(t, time.Now().Add(24*time.Hour))
	srv := startTLSServer(t, cert)
	// Without -k: the handshake is refused, the attempt fails with a
	// certificate error, and the certificate is still described.
	at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, TLS: &TLSOptions{}})
	if at.OK || at.Failure != probe.FailCertificate || at.TLS == nil || at.TLS.Verified || !strings.Contains(at.TLS.VerifyError, "unknown authority") || at.TLS.Certificate == nil {
		t.Fatalf("%+v tls %+v", at, at.TLS)
	}
	// With -k: connected, verification reported as failed.
	at = Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, TLS: &TLSOptions{Insecure: true}})
	if !at.OK || at.TLS == nil || at.TLS.Verified || at.TLS.VerifyError == "" || at.TLS.Version == "" {
		t.Fatalf("-k: %+v tls %+v", at, at.TLS)
	}
}

func TestTLSWrongName(t *testing.T) {
	cert, pool := testCert(t, time.Now().Add(24*time.Hour))
	srv := startTLSServer(t, cert)
	at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, TLS: &TLSOptions{ServerName: "other.example", Roots: pool}})
	if at.OK || at.Failure != probe.FailCertificate || !strings.Contains(at.TLS.VerifyError, "other.example") {
		t.Fatalf("%+v tls %+v", at, at.TLS)
	}
}

func TestTLSAgainstPlainServer(t *testing.T) {
	srv := startServer(t, func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n")); io.Copy(io.Discard, c) })
	at := Dial(context.Background(), srv.AddrPort(), 0, Options{Timeout: 10 * time.Second, ReadTimeout: 10 * time.Second, TLS: &TLSOptions{Insecure: true}})
	if at.OK || at.State != StateOpen || at.TLS == nil || at.TLS.Error == "" || at.Failure == "" {
		t.Fatalf("%+v tls %+v", at, at.TLS)
	}
}
