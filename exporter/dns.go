package exporter

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/resolve"
)

const helpDNSDuration = "Duration of DNS request by phase"

// ProbeDNS sends one query with resolve.Client.Lookup, the function
// `nettool resolve` runs. With the module's server set (nettool), the
// target is the query name and the server is the module's.
func ProbeDNS(ctx context.Context, target string, m *Module, s *Scrape) bool {
	d := &m.DNS
	for _, ph := range []string{"resolve", "connect", "request"} {
		s.Reg.Set("probe_dns_duration_seconds", helpDNSDuration, 0, Label{"phase", ph})
	}
	s.Reg.Set("probe_dns_answer_rrs", "Returns number of entries in the answer resource record list", 0)
	s.Reg.Set("probe_dns_authority_rrs", "Returns number of entries in the authority resource record list", 0)
	s.Reg.Set("probe_dns_additional_rrs", "Returns number of entries in the additional resource record list", 0)
	s.Reg.Set("probe_dns_query_succeeded", "Displays whether or not the query was executed successfully", 0)

	qname, server := d.QueryName, target
	if d.Server != "" {
		qname, server = target, d.Server
		if err := resolve.CheckName(strings.TrimSuffix(qname, ".")); err != nil && qname != "." {
			s.Log.Error("Bad query name", "target", target, "err", err)
			return false
		}
	}
	qt := dns.TypeANY
	if d.QueryType != "" {
		qt = dns.StringToType[strings.ToUpper(d.QueryType)]
	}
	qc := uint16(dns.ClassINET)
	if d.QueryClass != "" {
		qc = dns.StringToClass[strings.ToUpper(d.QueryClass)]
	}
	transport := resolve.UDP
	if d.TransportProtocol == "tcp" {
		transport = resolve.TCP
	}
	if d.DNSOverTLS {
		transport = resolve.TLS
	}
	if strings.Contains(server, "://") {
		srv, err := resolve.ParseServer(server)
		if err != nil {
			s.Log.Error("Bad server", "server", server, "err", err)
			return false
		}
		transport = srv.Transport
		server = srv.HostPort()
	}
	host, portStr, err := net.SplitHostPort(server)
	if err != nil {
		host, portStr = strings.Trim(server, "[]"), strconv.Itoa(resolve.DefaultPort(transport))
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		s.Log.Error("Bad port", "port", portStr)
		return false
	}
	ip, took, err := chooseProtocol(ctx, s, host, d.IPProtocol, *d.IPProtocolFallback, "")
	s.Reg.Add("probe_dns_duration_seconds", helpDNSDuration, took, Label{"phase", "resolve"})
	if err != nil {
		s.Log.Error("Error resolving address", "err", err)
		return false
	}
	opts := resolve.Options{NoRD: !*d.RecursionDesired, Timeout: remaining(ctx, 10*time.Second)}
	if transport == resolve.TLS {
		roots := m.roots
		name := d.TLSConfig.ServerName
		if name == "" {
			name = host
		}
		opts.TLS = &tls.Config{ServerName: name, RootCAs: roots, InsecureSkipVerify: d.TLSConfig.InsecureSkipVerify}
	}
	c := &resolve.Client{Opts: opts}
	defer c.Close()
	srv := resolve.Server{Transport: transport, Host: ip.String(), Port: port}
	s.Log.Debug("Making DNS query", "target", srv.String(), "name", qname, "type", qt, "class", qc)
	res := c.Lookup(ctx, srv, resolve.NewQuestion(qname, qt, qc))
	rtt := msToSec(res.RTTMS)
	connect := msToSec(res.ElapsedMS - res.RTTMS)
	if connect < 0 {
		connect = 0
	}
	s.Reg.Set("probe_dns_duration_seconds", helpDNSDuration, connect, Label{"phase", "connect"})
	s.Reg.Set("probe_dns_duration_seconds", helpDNSDuration, rtt, Label{"phase", "request"})
	r := res.Msg
	if r == nil {
		s.Log.Error("Error while sending a DNS query", "failure", res.Failure, "err", res.Error)
		return false
	}
	extra := 0
	for _, rr := range r.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			extra++
		}
	}
	s.Reg.Set("probe_dns_answer_rrs", "Returns number of entries in the answer resource record list", float64(len(r.Answer)))
	s.Reg.Set("probe_dns_authority_rrs", "Returns number of entries in the authority resource record list", float64(len(r.Ns)))
	s.Reg.Set("probe_dns_additional_rrs", "Returns number of entries in the additional resource record list", float64(extra))
	s.Reg.Set("probe_dns_query_succeeded", "Displays whether or not the query was executed successfully", 1)
	if qt == dns.TypeSOA {
		for _, a := range r.Answer {
			if soa, ok := a.(*dns.SOA); ok {
				s.Reg.Set("probe_dns_serial", "Returns the serial number of the zone", float64(soa.Serial))
			}
		}
	}
	if !validRcode(r.Rcode, d.ValidRcodes, s) {
		return false
	}
	sections := []struct {
		name string
		rrs  []dns.RR
		v    *DNSRRValidator
	}{{"Answer", r.Answer, &d.ValidateAnswer}, {"Authority", r.Ns, &d.ValidateAuthority}, {"Additional", withoutOPT(r.Extra), &d.ValidateAdditional}}
	for _, sec := range sections {
		if !validRRs(sec.rrs, sec.v, s) {
			s.Log.Error(sec.name + " RRs validation failed")
			return false
		}
	}
	return true
}

func withoutOPT(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

func validRcode(rc int, valid []string, s *Scrape) bool {
	if len(valid) == 0 {
		valid = []string{"NOERROR"}
	}
	for _, v := range valid {
		if dns.StringToRcode[strings.ToUpper(v)] == rc {
			return true
		}
	}
	s.Log.Error("Rcode is not one of the valid rcodes", "rcode", rc, "string_rcode", dns.RcodeToString[rc], "valid_rcodes", valid)
	return false
}

// validRRs applies blackbox's four record checks to one section.
func validRRs(rrs []dns.RR, v *DNSRRValidator, s *Scrape) bool {
	anyMatch, allMatch := false, true
	for _, rr := range rrs {
		txt := rr.String()
		for _, re := range v.FailIfMatchesRegexp {
			if re.MatchString(txt) {
				s.Log.Error("At least one RR matched regexp", "regexp", re.src, "rr", txt)
				return false
			}
		}
		for _, re := range v.FailIfAllMatchRegexp {
			if !re.MatchString(txt) {
				allMatch = false
			}
		}
		for _, re := range v.FailIfNotMatchesRegexp {
			if !re.MatchString(txt) {
				s.Log.Error("At least one RR did not match regexp", "regexp", re.src, "rr", txt)
				return false
			}
		}
		for _, re := range v.FailIfNoneMatchesRegexp {
			if re.MatchString(txt) {
				anyMatch = true
			}
		}
	}
	// blackbox fails fail_if_all_match_regexp when some record does NOT
	// match (prober/dns.go); nettool keeps that meaning so that a module
	// file behaves the same under both.
	if len(v.FailIfAllMatchRegexp) > 0 && !allMatch {
		s.Log.Error("Not all RRs matched regexp")
		return false
	}
	if len(v.FailIfNoneMatchesRegexp) > 0 && !anyMatch {
		s.Log.Error("None of the RRs did matched any regexp")
		return false
	}
	return true
}
