package tcp

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/nettool/nettool/probe"
)

// TLSOptions configure the handshake of --tls.
type TLSOptions struct {
	ServerName string         // SNI and the name verified; empty: Options.Host when it is a name, else the address
	Insecure   bool           // -k: report verification, do not fail on it
	Roots      *x509.CertPool // nil: the system roots
	ALPN       []string       // protocols offered
	Now        func() time.Time
}

// TLSInfo describes a handshake: how long it took, what was agreed, the
// server's certificate and whether it verified.
type TLSInfo struct {
	HandshakeMS float64   `json:"handshake_ms"`
	Version     string    `json:"version,omitempty"`
	Cipher      string    `json:"cipher,omitempty"`
	ALPN        string    `json:"alpn,omitempty"`
	ServerName  string    `json:"server_name,omitempty"`
	Verified    bool      `json:"verified"`
	VerifyError string    `json:"verify_error,omitempty"`
	ChainLength int       `json:"chain_length"`
	Certificate *CertInfo `json:"certificate,omitempty"`
	Error       string    `json:"error,omitempty"`
	// EarliestNotAfter is the soonest expiry of every certificate the
	// server sent (the exporter's probe_ssl_earliest_cert_expiry).
	EarliestNotAfter time.Time `json:"-"`
}

// CertInfo is the leaf certificate, summarised.
type CertInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	SANs      []string  `json:"sans"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	DaysLeft  int       `json:"days_left"`
	Serial    string    `json:"serial"`
	SHA256    string    `json:"sha256,omitempty"`
}

// handshake runs a TLS client handshake on conn. Verification is done by
// nettool itself so that -k can still report its result.
func handshake(conn net.Conn, g *deadlines, addr netip.AddrPort, host string, o TLSOptions, timeout time.Duration) (*TLSInfo, net.Conn, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	name := o.ServerName
	if name == "" {
		name = DefaultServerName(host)
	}
	verifyName := name
	if verifyName == "" {
		verifyName = addr.Addr().Unmap().String()
	}
	info := &TLSInfo{ServerName: name}
	var verifyErr error
	cfg := &tls.Config{
		ServerName:         name,
		InsecureSkipVerify: true, // verified below, in VerifyConnection
		NextProtos:         o.ALPN,
		VerifyConnection: func(cs tls.ConnectionState) error {
			verifyErr = verifyChain(cs.PeerCertificates, verifyName, o.Roots, now())
			if verifyErr != nil && !o.Insecure {
				return verifyErr
			}
			return nil
		},
	}
	tc := tls.Client(conn, cfg)
	g.set(time.Now().Add(timeout))
	start := time.Now()
	err := tc.Handshake()
	info.HandshakeMS = probe.Millis(time.Since(start))
	cs := tc.ConnectionState()
	if len(cs.PeerCertificates) > 0 {
		info.ChainLength = len(cs.PeerCertificates)
		info.Certificate = certInfo(cs.PeerCertificates[0], now())
		for _, c := range cs.PeerCertificates {
			if info.EarliestNotAfter.IsZero() || c.NotAfter.Before(info.EarliestNotAfter) {
				info.EarliestNotAfter = c.NotAfter
			}
		}
	}
	if verifyErr != nil {
		info.VerifyError = verifyErr.Error()
	}
	if err != nil {
		if verifyErr != nil && !o.Insecure {
			err = &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: verifyErr}
		}
		info.Error = err.Error()
		return info, nil, err
	}
	info.Verified = verifyErr == nil
	info.Version = tls.VersionName(cs.Version)
	info.Cipher = tls.CipherSuiteName(cs.CipherSuite)
	info.ALPN = cs.NegotiatedProtocol
	return info, tc, nil
}

// DefaultServerName is the TLS server name for a target written as host:
// the name itself (without a final dot) when it is a name, empty for an IP
// address (no SNI is sent for addresses, RFC 6066 section 3) or no host.
func DefaultServerName(host string) string {
	h := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ".")
	if h == "" {
		return ""
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	return h
}

// selfSignedError explains x509's "unknown authority" when the server's
// certificate signed itself: no system root will ever vouch for it.
type selfSignedError struct{ err error }

func (e *selfSignedError) Error() string {
	return "self-signed certificate (" + e.err.Error() + ")"
}
func (e *selfSignedError) Unwrap() error { return e.err }

func verifyChain(certs []*x509.Certificate, name string, roots *x509.CertPool, now time.Time) error {
	if len(certs) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter, CurrentTime: now})
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) && selfSigned(certs[0]) {
		return &selfSignedError{err: err}
	}
	return err
}

// selfSigned reports a certificate whose issuer is its subject and whose
// signature its own key checks.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func certInfo(c *x509.Certificate, now time.Time) *CertInfo {
	ci := &CertInfo{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
		DaysLeft:  int(math.Floor(c.NotAfter.Sub(now).Hours() / 24)),
		Serial:    strings.ToUpper(hex.EncodeToString(c.SerialNumber.Bytes())),
		SANs:      []string{},
	}
	sum := sha256.Sum256(c.Raw)
	ci.SHA256 = hex.EncodeToString(sum[:])
	ci.SANs = append(ci.SANs, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		ci.SANs = append(ci.SANs, ip.String())
	}
	for _, e := range c.EmailAddresses {
		ci.SANs = append(ci.SANs, "email:"+e)
	}
	for _, u := range c.URIs {
		ci.SANs = append(ci.SANs, "uri:"+u.String())
	}
	if len(ci.SANs) > 100 {
		ci.SANs = append(ci.SANs[:100], fmt.Sprintf("(%d more)", len(ci.SANs)-100))
	}
	return ci
}
