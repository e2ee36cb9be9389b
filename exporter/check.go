package exporter

import (
	"crypto/x509"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"

	"github.com/nettool/nettool/httpget"
	"github.com/nettool/nettool/ipinfo"
	"github.com/nettool/nettool/probe/trace"
	"github.com/nettool/nettool/resolve"
)

func proberNames() string {
	names := make([]string, 0, len(Probers))
	for n := range Probers {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// at returns a keyError for the value of key path (a.b.c) in the module, or
// a plain error when the key is not written (a default).
func (m *Module) at(path string, format string, args ...any) error {
	n := m.src
	for _, k := range strings.Split(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			break
		}
		next := valueNode(n, k)
		if next == nil {
			break
		}
		n = next
	}
	if n == nil {
		n = m.src
	}
	return &keyError{n, path + ": " + fmt.Sprintf(format, args...)}
}

func checkIPProtocol(m *Module, sec, p string) error {
	switch p {
	case "", "ip4", "ip6":
		return nil
	}
	return m.at(sec+".preferred_ip_protocol", "want ip4 or ip6, not %q", p)
}

func loadCA(m *Module, path, file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, m.at(path, "cannot read CA file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, m.at(path, "no PEM certificate in %s", file)
	}
	return pool, nil
}

func checkServer(m *Module, path, s string) (*resolve.Server, error) {
	if s == "" {
		return nil, nil
	}
	srv, err := resolve.ParseServer(s)
	if err != nil {
		return nil, m.at(path, "%v", err)
	}
	return &srv, nil
}

func has(n *yaml.Node, key string) bool { return n != nil && keyNode(n, key) != nil }

// check validates a decoded module and fills in blackbox's defaults.
func (m *Module) check() error {
	if m.Prober == "" {
		return &keyError{m.src, "no prober (want one of " + proberNames() + ")"}
	}
	if _, ok := Probers[m.Prober]; !ok {
		return m.at("prober", "unknown prober %q (want one of %s)", m.Prober, proberNames())
	}
	for _, sec := range []string{"http", "tcp", "icmp", "dns", "myip", "trace"} {
		if sec != m.Prober && has(m.src, sec) {
			return &keyError{keyNode(m.src, sec), fmt.Sprintf("a %s section in a module whose prober is %s would be ignored", sec, m.Prober)}
		}
	}
	if m.Timeout < 0 {
		return m.at("timeout", "must not be negative")
	}
	t := true
	var err error
	switch m.Prober {
	case "http":
		h := &m.HTTP
		if h.IPProtocolFallback == nil {
			h.IPProtocolFallback = &t
		}
		if err := checkIPProtocol(m, "http", h.IPProtocol); err != nil {
			return err
		}
		if h.Method != "" && !httpget.ValidMethod(h.Method) {
			return m.at("http.method", "bad method %q", h.Method)
		}
		if h.NoFollowRedirects != nil && h.FollowRedirects != nil && *h.NoFollowRedirects == *h.FollowRedirects {
			return m.at("http.follow_redirects", "contradicts no_follow_redirects")
		}
		for _, v := range h.ValidHTTPVersions {
			switch v {
			case "HTTP/1.0", "HTTP/1.1":
			default:
				return m.at("http.valid_http_versions", "%q: nettool speaks HTTP/1.0 and HTTP/1.1 only", v)
			}
		}
		for _, c := range h.ValidStatusCodes {
			if c < 100 || c > 999 {
				return m.at("http.valid_status_codes", "bad status code %d", c)
			}
		}
		if h.Headers.Kind != 0 {
			if h.Headers.Kind != yaml.MappingNode {
				return m.at("http.headers", "want a mapping of header names to values")
			}
			for i := 0; i+1 < len(h.Headers.Content); i += 2 {
				k, v := h.Headers.Content[i], h.Headers.Content[i+1]
				if v.Kind != yaml.ScalarNode {
					return &keyError{v, "http.headers." + k.Value + ": want a string"}
				}
				if _, err := httpget.ParseHeaderEdit(k.Value + ": " + v.Value); err != nil {
					return &keyError{k, "http.headers: " + err.Error()}
				}
				h.headers = append(h.headers, [2]string{k.Value, v.Value})
			}
		}
		for i, hm := range append(append([]HeaderMatch(nil), h.FailIfHeaderMatches...), h.FailIfHeaderNotMatches...) {
			if hm.Header == "" || hm.Regexp.Regexp == nil {
				key := "http.fail_if_header_matches"
				if i >= len(h.FailIfHeaderMatches) {
					key = "http.fail_if_header_not_matches"
				}
				return m.at(key, "each entry needs header and regexp")
			}
		}
		if m.roots, err = loadCA(m, "http.tls_config.ca_file", h.TLSConfig.CAFile); err != nil {
			return err
		}
		if _, err = checkServer(m, "http.dns_server", h.DNSServer); err != nil {
			return err
		}
	case "tcp":
		c := &m.TCP
		if c.IPProtocolFallback == nil {
			c.IPProtocolFallback = &t
		}
		if err := checkIPProtocol(m, "tcp", c.IPProtocol); err != nil {
			return err
		}
		for _, q := range c.QueryResponse {
			if q.Expect.Regexp == nil && q.Send == "" && !q.StartTLS {
				return m.at("tcp.query_response", "an empty step (want expect, send or starttls)")
			}
		}
		if m.roots, err = loadCA(m, "tcp.tls_config.ca_file", c.TLSConfig.CAFile); err != nil {
			return err
		}
		if _, err = checkServer(m, "tcp.dns_server", c.DNSServer); err != nil {
			return err
		}
	case "icmp":
		c := &m.ICMP
		if c.IPProtocolFallback == nil {
			c.IPProtocolFallback = &t
		}
		if err := checkIPProtocol(m, "icmp", c.IPProtocol); err != nil {
			return err
		}
		if !has(valueNode(m.src, "icmp"), "ttl") {
			c.TTL = 64
		}
		if c.TTL < 1 || c.TTL > 255 {
			return m.at("icmp.ttl", "want 1 to 255, not %d", c.TTL)
		}
		if c.PayloadSize < 0 || c.PayloadSize > 65507 {
			return m.at("icmp.payload_size", "want 0 to 65507, not %d", c.PayloadSize)
		}
		if _, err = checkServer(m, "icmp.dns_server", c.DNSServer); err != nil {
			return err
		}
	case "dns":
		d := &m.DNS
		if d.IPProtocolFallback == nil {
			d.IPProtocolFallback = &t
		}
		if d.RecursionDesired == nil {
			d.RecursionDesired = &t
		}
		if err := checkIPProtocol(m, "dns", d.IPProtocol); err != nil {
			return err
		}
		if d.QueryName == "" && d.Server == "" {
			return m.at("dns", "query_name must be set (or server, to take the target as the name)")
		}
		if d.QueryName != "" {
			if err := resolve.CheckName(strings.TrimSuffix(d.QueryName, ".")); err != nil && d.QueryName != "." {
				return m.at("dns.query_name", "%v", err)
			}
		}
		if d.QueryType != "" {
			if _, ok := dns.StringToType[strings.ToUpper(d.QueryType)]; !ok {
				return m.at("dns.query_type", "unknown type %q", d.QueryType)
			}
		}
		if d.QueryClass != "" {
			if _, ok := dns.StringToClass[strings.ToUpper(d.QueryClass)]; !ok {
				return m.at("dns.query_class", "unknown class %q", d.QueryClass)
			}
		}
		switch d.TransportProtocol {
		case "", "udp", "tcp":
		default:
			return m.at("dns.transport_protocol", "want udp or tcp, not %q", d.TransportProtocol)
		}
		if d.DNSOverTLS && d.TransportProtocol != "tcp" {
			return m.at("dns.dns_over_tls", "needs transport_protocol: tcp")
		}
		for _, rc := range d.ValidRcodes {
			if _, ok := dns.StringToRcode[strings.ToUpper(rc)]; !ok {
				return m.at("dns.valid_rcodes", "unknown rcode %q", rc)
			}
		}
		if m.roots, err = loadCA(m, "dns.tls_config.ca_file", d.TLSConfig.CAFile); err != nil {
			return err
		}
		if _, err = checkServer(m, "dns.server", d.Server); err != nil {
			return err
		}
	case "myip":
		for _, p := range m.MyIP.Providers {
			if _, err := ipinfo.ParseProvider(p); err != nil {
				return m.at("myip.providers", "%v", err)
			}
		}
		if m.MyIP.Quorum < 0 || (len(m.MyIP.Providers) > 0 && m.MyIP.Quorum > len(m.MyIP.Providers)) {
			return m.at("myip.quorum", "want 1 to the number of providers")
		}
		if m.roots, err = loadCA(m, "myip.ca_file", m.MyIP.CAFile); err != nil {
			return err
		}
	case "trace":
		c := &m.Trace
		if c.IPProtocolFallback == nil {
			c.IPProtocolFallback = &t
		}
		if err := checkIPProtocol(m, "trace", c.IPProtocol); err != nil {
			return err
		}
		if c.MaxHops == 0 {
			c.MaxHops = 30
		}
		if c.MaxHops < 1 || c.MaxHops > 255 {
			return m.at("trace.max_hops", "want 1 to 255, not %d", c.MaxHops)
		}
		if _, err := trace.ParseMethod(c.Method); c.Method != "" && err != nil {
			return m.at("trace.method", "want icmp, udp or tcp, not %q", c.Method)
		}
		if c.Port < 0 || c.Port > 65535 {
			return m.at("trace.port", "want 1 to 65535, not %d", c.Port)
		}
		if c.Queries < 0 || c.Queries > trace.MaxQueries {
			return m.at("trace.queries", "want 1 to %d, not %d", trace.MaxQueries, c.Queries)
		}
		if _, err = checkServer(m, "trace.dns_server", c.DNSServer); err != nil {
			return err
		}
	}
	return nil
}
