package exporter

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nettool/nettool/httpget"
)

const (
	helpHTTPDuration   = "Duration of http request by phase, summed over all redirects"
	helpSSLEarliest    = "Returns last SSL chain expiry in unixtime"
	helpTLSVersion     = "Returns the TLS version used or NaN when unknown"
	helpTLSCipher      = "Returns the TLS cipher negotiated during handshake"
	helpMaxBodyRegexps = 16 << 20 // bytes of body kept for the body regexps
)

// cappedBuffer keeps the first max bytes written to it.
type cappedBuffer struct {
	bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// ProbeHTTP probes a URL with httpget.Get, the client `nettool get` runs.
func ProbeHTTP(ctx context.Context, target string, m *Module, s *Scrape) bool {
	h := &m.HTTP
	for _, ph := range []string{"resolve", "connect", "tls", "processing", "transfer"} {
		s.Reg.Set("probe_http_duration_seconds", helpHTTPDuration, 0, Label{"phase", ph})
	}
	s.Reg.Set("probe_http_content_length", "Length of http content response", 0)
	s.Reg.Set("probe_http_uncompressed_body_length", "Length of uncompressed response body", 0)
	s.Reg.Set("probe_http_redirects", "The number of redirects", 0)
	s.Reg.Set("probe_http_ssl", "Indicates if SSL was used for the final redirect", 0)
	s.Reg.Set("probe_http_status_code", "Response HTTP status code", 0)
	s.Reg.Set("probe_http_version", "Returns the version of HTTP of the probe response", 0)
	s.Reg.Set("probe_failed_due_to_regex", helpRegex, 0)

	if l := strings.ToLower(target); !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
		target = "http://" + target
	}
	t, err := httpget.ParseTarget(target)
	if err != nil {
		s.Log.Error("Could not parse target URL", "err", err)
		return false
	}
	ip, took, err := chooseProtocol(ctx, s, t.Host, h.IPProtocol, *h.IPProtocolFallback, h.DNSServer)
	s.Reg.Add("probe_http_duration_seconds", helpHTTPDuration, took, Label{"phase", "resolve"})
	if err != nil {
		s.Log.Error("Error resolving address", "err", err)
		return false
	}
	follow := true
	if h.NoFollowRedirects != nil {
		follow = !*h.NoFollowRedirects
	}
	if h.FollowRedirects != nil {
		follow = *h.FollowRedirects
	}
	spec := httpget.RequestSpec{Method: h.Method, UserAgent: "nettool-exporter"}
	if spec.Method == "" {
		spec.Method = "GET"
	}
	for _, kv := range h.headers {
		spec.Edits = append(spec.Edits, httpget.HeaderEdit{Name: kv[0], Value: kv[1]})
	}
	if h.Body != "" {
		spec.Body, spec.HasBody = []byte(h.Body), true
	}
	sni := h.TLSConfig.ServerName
	if sni == "" {
		for _, kv := range h.headers {
			if strings.EqualFold(kv[0], "Host") {
				sni = kv[1]
			}
		}
	}
	roots := m.roots
	o := httpget.Options{
		Request:  spec,
		Timeout:  remaining(ctx, 30*time.Second),
		Insecure: h.TLSConfig.InsecureSkipVerify,
		RootCAs:  roots,
		SNI:      sni,
		Follow:   follow,
		Resolve:  map[string][]netip.Addr{strings.ToLower(t.Host) + ":" + strconv.Itoa(t.Port): {ip}},
		LookupHost: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return lookup(ctx, host, h.DNSServer)
		},
	}
	var body *cappedBuffer
	if len(h.FailIfBodyMatchesRegexp) > 0 || len(h.FailIfBodyNotMatchesRegexp) > 0 {
		body = &cappedBuffer{max: helpMaxBodyRegexps}
		o.Sink = body
	} else {
		o.Sink = io.Discard
	}
	res, err := httpget.Get(ctx, t, o)
	if err != nil {
		s.Log.Error("Error creating request", "err", err)
		return false
	}
	for i, x := range res.Hops {
		tm := x.Timings
		if i > 0 {
			s.Reg.Add("probe_http_duration_seconds", helpHTTPDuration, msToSec(tm.NameLookup), Label{"phase", "resolve"})
		}
		if x.Connection == nil || tm.Connect == 0 {
			continue
		}
		s.Reg.Add("probe_http_duration_seconds", helpHTTPDuration, msToSec(tm.Connect-tm.NameLookup), Label{"phase", "connect"})
		if x.TLS != nil {
			s.Reg.Add("probe_http_duration_seconds", helpHTTPDuration, msToSec(tm.AppConnect-tm.Connect), Label{"phase", "tls"})
		}
		if tm.StartTransfer == 0 {
			continue
		}
		s.Reg.Add("probe_http_duration_seconds", helpHTTPDuration, msToSec(tm.StartTransfer-tm.AppConnect), Label{"phase", "processing"})
		if x.Response != nil && x.Response.Complete {
			s.Reg.Add("probe_http_duration_seconds", helpHTTPDuration, msToSec(tm.Total-tm.StartTransfer), Label{"phase", "transfer"})
		}
	}
	s.Reg.Set("probe_http_redirects", "The number of redirects", float64(res.Redirects))
	last := res.Final()
	if last == nil || last.Response == nil || !last.Response.HTTP {
		s.Log.Error("Error for HTTP request", "failure", res.Failure, "err", res.Error)
		return false
	}
	resp := last.Response
	s.Log.Debug("Received HTTP response", "status_code", resp.Status)
	success := false
	if len(h.ValidStatusCodes) > 0 {
		success = slices.Contains(h.ValidStatusCodes, resp.Status)
		if !success {
			s.Log.Error("Invalid HTTP response status code", "status_code", resp.Status, "valid_status_codes", h.ValidStatusCodes)
		}
	} else if resp.Status >= 200 && resp.Status < 300 {
		success = true
	} else {
		s.Log.Error("Invalid HTTP response status code, wanted 2xx", "status_code", resp.Status)
	}
	if success && (len(h.FailIfHeaderMatches) > 0 || len(h.FailIfHeaderNotMatches) > 0) {
		success = matchHeaders(resp, h, s)
		s.Reg.Set("probe_failed_due_to_regex", helpRegex, b2f(!success))
	}
	if success && body != nil {
		success = matchBody(body.Bytes(), h, s)
		s.Reg.Set("probe_failed_due_to_regex", helpRegex, b2f(!success))
	}
	if !res.OK && res.Failure != httpget.FailTooManyRedirects {
		// The response came but did not end well (cut short, a timeout
		// mid-body): blackbox fails a body it could not read.
		s.Log.Error("Failed to read HTTP response body", "failure", res.Failure, "err", res.Error)
		success = false
	}
	if t, err := http.ParseTime(resp.Get("Last-Modified")); err == nil {
		s.Reg.Set("probe_http_last_modified_timestamp_seconds", "Returns the Last-Modified HTTP response header in unixtime", float64(t.Unix()))
	}
	if v, err := strconv.ParseFloat(strings.TrimPrefix(resp.Version, "HTTP/"), 64); err == nil {
		s.Reg.Set("probe_http_version", "Returns the version of HTTP of the probe response", v)
	}
	if len(h.ValidHTTPVersions) > 0 && !slices.Contains(h.ValidHTTPVersions, resp.Version) {
		s.Log.Error("Invalid HTTP version number", "version", resp.Version)
		success = false
	}
	if last.TLS != nil {
		s.Reg.Set("probe_http_ssl", "Indicates if SSL was used for the final redirect", 1)
		var earliest time.Time
		for _, c := range last.TLS.Certificates {
			if earliest.IsZero() || c.NotAfter.Before(earliest) {
				earliest = c.NotAfter
			}
		}
		if !earliest.IsZero() {
			s.Reg.Set("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime", float64(earliest.Unix()))
		}
		if certs := last.TLS.Certificates; len(certs) > 0 {
			// The chain as the server sent it: nettool keeps no other
			// chain, so the last chain is this one (blackbox: the verified
			// chains, none with insecure_skip_verify).
			leaf := certs[0]
			s.Reg.Set("probe_ssl_last_chain_expiry_timestamp_seconds", "Returns last SSL chain expiry in timestamp", float64(earliest.Unix()))
			s.Reg.Set("probe_ssl_last_chain_info", "Contains SSL leaf certificate information", 1,
				Label{"fingerprint_sha256", leaf.SHA256}, Label{"subject", leaf.Subject}, Label{"issuer", leaf.Issuer},
				Label{"subjectalternative", strings.Join(leaf.DNSNames, ",")}, Label{"serialnumber", leaf.Serial})
		}
		s.Reg.Set("probe_tls_version_info", helpTLSVersion, 1, Label{"version", last.TLS.Version})
		if last.TLS.Cipher != "" {
			s.Reg.Set("probe_tls_cipher_info", helpTLSCipher, 1, Label{"cipher", last.TLS.Cipher})
		}
		if h.FailIfSSL {
			s.Log.Error("Final request was over SSL")
			success = false
		}
	} else if h.FailIfNotSSL && success {
		s.Log.Error("Final request was not over SSL")
		success = false
	}
	s.Reg.Set("probe_http_status_code", "Response HTTP status code", float64(resp.Status))
	s.Reg.Set("probe_http_content_length", "Length of http content response", float64(resp.ContentLength))
	s.Reg.Set("probe_http_uncompressed_body_length", "Length of uncompressed response body", float64(resp.BodyBytes))
	return success
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func matchHeaders(resp *httpget.Response, h *HTTPProbe, s *Scrape) bool {
	values := func(name string) []string {
		var out []string
		for _, f := range resp.Headers {
			if strings.EqualFold(f.Name, name) {
				out = append(out, f.Value)
			}
		}
		return out
	}
	for _, hm := range h.FailIfHeaderMatches {
		vs := values(hm.Header)
		if len(vs) == 0 {
			if !hm.AllowMissing {
				s.Log.Error("Missing required header", "header", hm.Header)
				return false
			}
			continue
		}
		for _, v := range vs {
			if hm.Regexp.MatchString(v) {
				s.Log.Error("Header matched regular expression", "header", hm.Header, "regexp", hm.Regexp.src, "value_count", len(vs))
				return false
			}
		}
	}
	for _, hm := range h.FailIfHeaderNotMatches {
		vs := values(hm.Header)
		if len(vs) == 0 {
			if !hm.AllowMissing {
				s.Log.Error("Missing required header", "header", hm.Header)
				return false
			}
			continue
		}
		any := false
		for _, v := range vs {
			if hm.Regexp.MatchString(v) {
				any = true
			}
		}
		if !any {
			s.Log.Error("Header did not match regular expression", "header", hm.Header, "regexp", hm.Regexp.src)
			return false
		}
	}
	return true
}

func matchBody(body []byte, h *HTTPProbe, s *Scrape) bool {
	for _, re := range h.FailIfBodyMatchesRegexp {
		if re.Match(body) {
			s.Log.Error("Body matched regular expression", "regexp", re.src)
			return false
		}
	}
	for _, re := range h.FailIfBodyNotMatchesRegexp {
		if !re.Match(body) {
			s.Log.Error("Body did not match regular expression", "regexp", re.src)
			return false
		}
	}
	return true
}

// msToSec turns a *_ms figure into seconds, rounded to the nanosecond so
// the differences of two timings do not show float noise.
func msToSec(ms float64) float64 { return math.Round(ms*1e6) / 1e9 }
