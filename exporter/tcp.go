package exporter

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/nettool/nettool/probe/tcp"
)

// ProbeTCP connects with tcp.Dial, the connect test `nettool tcp` runs, and
// plays the module's query_response script on the connection.
func ProbeTCP(ctx context.Context, target string, m *Module, s *Scrape) bool {
	c := &m.TCP
	s.Reg.Set("probe_failed_due_to_regex", helpRegex, 0)
	host, portStr, err := net.SplitHostPort(target)
	if err != nil {
		s.Log.Error("Error splitting target address and port", "err", err)
		return false
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		s.Log.Error("Bad port", "port", portStr)
		return false
	}
	ip, _, err := chooseProtocol(ctx, s, host, c.IPProtocol, *c.IPProtocolFallback, c.DNSServer)
	if err != nil {
		s.Log.Error("Error resolving address", "err", err)
		return false
	}
	left := remaining(ctx, 10*time.Second)
	o := tcp.Options{Timeout: left, ReadTimeout: left}
	if c.SourceIPAddress != "" {
		src, err := netip.ParseAddr(c.SourceIPAddress)
		if err != nil {
			s.Log.Error("Error parsing source ip address", "srcIP", c.SourceIPAddress)
			return false
		}
		o.Source = src
	}
	roots := m.roots
	tlsOpts := &tcp.TLSOptions{ServerName: c.TLSConfig.ServerName, Insecure: c.TLSConfig.InsecureSkipVerify, Roots: roots}
	if tlsOpts.ServerName == "" {
		if _, err := netip.ParseAddr(host); err != nil {
			tlsOpts.ServerName = host
		}
	}
	if c.TLS {
		o.TLS = tlsOpts
	}
	for _, q := range c.QueryResponse {
		st := tcp.Step{Expect: q.Expect.Regexp, ExpandSend: true}
		if q.Send != "" {
			st.Send = []byte(q.Send + "\n")
		}
		if q.StartTLS {
			st.StartTLS = tlsOpts
		}
		o.Steps = append(o.Steps, st)
	}
	at := tcp.Dial(ctx, netip.AddrPortFrom(ip, uint16(port)), 1, o)
	if at.TLS != nil && at.TLS.Version != "" {
		if !at.TLS.EarliestNotAfter.IsZero() {
			s.Reg.Set("probe_ssl_earliest_cert_expiry", helpSSLEarliest, float64(at.TLS.EarliestNotAfter.Unix()))
		}
		s.Reg.Set("probe_tls_version_info", helpTLSVersion, 1, Label{"version", at.TLS.Version})
		if ci := at.TLS.Certificate; ci != nil {
			var dns []string
			for _, n := range ci.SANs {
				if _, err := netip.ParseAddr(n); err == nil || strings.Contains(n, ":") {
					continue // blackbox lists the DNS names only
				}
				dns = append(dns, n)
			}
			s.Reg.Set("probe_ssl_last_chain_expiry_timestamp_seconds", "Returns last SSL chain expiry in timestamp", float64(at.TLS.EarliestNotAfter.Unix()))
			s.Reg.Set("probe_ssl_last_chain_info", "Contains SSL leaf certificate information", 1,
				Label{"fingerprint_sha256", ci.SHA256}, Label{"subject", ci.Subject}, Label{"issuer", ci.Issuer},
				Label{"subjectalternative", strings.Join(dns, ",")}, Label{"serialnumber", strings.ToLower(ci.Serial)})
		}
	}
	if at.OK {
		s.Log.Debug("Successfully dialed", "address", at.Address, "local", at.LocalAddress)
		return true
	}
	if at.State != tcp.StateOpen {
		s.Log.Error("Error dialing TCP", "err", at.Error)
		return false
	}
	if len(at.Steps) > 0 && !at.Steps[len(at.Steps)-1].Matched && at.Steps[len(at.Steps)-1].Expect != "" {
		s.Reg.Set("probe_failed_due_to_regex", helpRegex, 1)
	}
	s.Log.Error("TCP conversation failed", "failure", at.Failure, "err", at.Error)
	return false
}
