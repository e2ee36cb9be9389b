package exporter

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nettool/nettool/probe/probetest"
	"github.com/nettool/nettool/serve"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rig is an exporter with a module file, behind an httptest server.
type rig struct {
	t   *testing.T
	ex  *Exporter
	srv *httptest.Server
}

func newRig(t *testing.T, yaml string) *rig {
	t.Helper()
	c, err := Parse([]byte(yaml), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	ex := NewWithConfig(c)
	srv := httptest.NewServer(ex)
	t.Cleanup(srv.Close)
	return &rig{t: t, ex: ex, srv: srv}
}

type scrape struct {
	code    int
	body    string
	elapsed time.Duration
}

func (r *rig) probe(module, target string, timeout string) scrape {
	r.t.Helper()
	req, _ := http.NewRequest("GET", r.srv.URL+"/probe?module="+url.QueryEscape(module)+"&target="+url.QueryEscape(target), nil)
	if timeout != "" {
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return scrape{resp.StatusCode, string(b), time.Since(start)}
}

// value finds a sample line "name{labels} value" and returns value.
func value(body, series string) (string, bool) {
	for _, l := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(l, series+" "); ok {
			return rest, true
		}
	}
	return "", false
}

func startServers(t *testing.T) (httpURL, dnsAddr, echoAddr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hs := serve.NewHTTPServer(serve.HTTPOptions{Addr: "127.0.0.1:0", Log: io.Discard})
	if err := hs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ds, err := serve.NewDNSServer(serve.DNSOptions{Addr: "127.0.0.1:0", UDPWorkers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Start(ctx); err != nil {
		t.Fatal(err)
	}
	es, err := serve.EchoListen("127.0.0.1:0", serve.EchoOptions{Chunk: 16, IdleTimeout: time.Minute, MaxClients: 1024})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { es.Serve(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		hs.Close()
		hs.Wait()
		sctx, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		ds.Shutdown(sctx)
		c2()
		es.Close()
		<-done
	})
	return hs.URL(), ds.Addr(), es.Addr().String()
}

const loopbackModules = `modules:
  http_2xx:
    prober: http
  http_404_ok:
    prober: http
    http:
      valid_status_codes: [404]
  http_body:
    prober: http
    http:
      fail_if_body_not_matches_regexp: ["nettool"]
  http_body_fail:
    prober: http
    http:
      fail_if_body_matches_regexp: ["nettool"]
  http_header:
    prober: http
    http:
      fail_if_header_not_matches:
        - header: Content-Type
          regexp: "text/html"
  http_noredirect:
    prober: http
    http:
      no_follow_redirects: true
      valid_status_codes: [302]
  http_by_name:
    prober: http
    http:
      preferred_ip_protocol: ip4
      dns_server: "%DNS%"
  tcp_connect:
    prober: tcp
  tcp_by_name:
    prober: tcp
    tcp:
      preferred_ip_protocol: ip4
      dns_server: "tcp://%DNS%"
  tcp_echo:
    prober: tcp
    tcp:
      query_response:
        - send: "hello"
        - expect: "^hello$"
  tcp_echo_nomatch:
    prober: tcp
    tcp:
      query_response:
        - send: "hello"
        - expect: "^goodbye$"
  dns_a:
    prober: dns
    dns:
      query_name: host.example.test
      query_type: A
      validate_answer_rrs:
        fail_if_not_matches_regexp: ["127\\.0\\.0\\.1"]
  dns_nx:
    prober: dns
    dns:
      query_name: nowhere.example.test
      query_type: A
  dns_nx_ok:
    prober: dns
    dns:
      query_name: nowhere.example.test
      valid_rcodes: [NXDOMAIN]
  dns_soa:
    prober: dns
    dns:
      query_name: example.test
      query_type: SOA
  dns_name:
    prober: dns
    dns:
      server: "%DNS%"
      query_type: A
`

func loopbackRig(t *testing.T) (*rig, string, string, string) {
	h, d, e := startServers(t)
	return newRig(t, strings.ReplaceAll(loopbackModules, "%DNS%", d)), h, d, e
}

func TestProbersOnLoopback(t *testing.T) {
	r, httpURL, dnsAddr, echoAddr := loopbackRig(t)
	u, _ := url.Parse(httpURL)
	closed := closedPort(t)
	cases := []struct {
		module, target string
		success        string
		series         map[string]string
	}{
		{"http_2xx", httpURL, "1", map[string]string{"probe_http_status_code": "200", "probe_http_version": "1.1", "probe_http_ssl": "0", "probe_ip_protocol": "4"}},
		{"http_2xx", httpURL + "/status/404", "0", map[string]string{"probe_http_status_code": "404"}},
		{"http_404_ok", httpURL + "/status/404", "1", nil},
		{"http_2xx", httpURL + "/redirect/2", "1", map[string]string{"probe_http_redirects": "2"}},
		{"http_noredirect", httpURL + "/redirect/1", "1", map[string]string{"probe_http_redirects": "0", "probe_http_status_code": "302"}},
		{"http_body", httpURL, "1", map[string]string{"probe_failed_due_to_regex": "0"}},
		{"http_body_fail", httpURL, "0", map[string]string{"probe_failed_due_to_regex": "1"}},
		{"http_header", httpURL, "1", nil},
		{"http_by_name", "http://host.example.test:" + u.Port() + "/", "1", map[string]string{"probe_ip_protocol": "4"}},
		{"http_2xx", "http://" + closed + "/", "0", nil},
		{"tcp_connect", echoAddr, "1", nil},
		{"tcp_connect", closed, "0", nil},
		{"tcp_by_name", "host.example.test:" + echoPort(echoAddr), "1", map[string]string{"probe_ip_protocol": "4"}},
		{"tcp_by_name", "nowhere.example.test:" + echoPort(echoAddr), "0", nil},
		{"tcp_echo", echoAddr, "1", map[string]string{"probe_failed_due_to_regex": "0"}},
		{"tcp_echo_nomatch", echoAddr, "0", map[string]string{"probe_failed_due_to_regex": "1"}},
		{"dns_a", dnsAddr, "1", map[string]string{"probe_dns_answer_rrs": "1", "probe_dns_query_succeeded": "1"}},
		{"dns_nx", dnsAddr, "0", map[string]string{"probe_dns_answer_rrs": "0", "probe_dns_authority_rrs": "1", "probe_dns_query_succeeded": "1"}},
		{"dns_nx_ok", dnsAddr, "1", nil},
		{"dns_soa", dnsAddr, "1", map[string]string{"probe_dns_serial": "2.026112501e+09"}},
		{"dns_name", "host.example.test", "1", map[string]string{"probe_dns_answer_rrs": "1"}},
		{"dns_name", "nowhere.example.test", "0", nil},
	}
	for _, c := range cases {
		timeout := "5"
		if c.module == "tcp_echo_nomatch" {
			timeout = "1" // the echo server keeps the line open: the probe waits for its deadline
		}
		s := r.probe(c.module, c.target, timeout)
		if s.code != 200 {
			t.Errorf("%s %s: HTTP %d %s", c.module, c.target, s.code, s.body)
			continue
		}
		if v, _ := value(s.body, "probe_success"); v != c.success {
			t.Errorf("%s %s: probe_success %q, want %s\n%s", c.module, c.target, v, c.success, s.body)
		}
		for k, want := range c.series {
			if v, ok := value(s.body, k); v != want {
				t.Errorf("%s %s: %s = %q (found %v), want %s", c.module, c.target, k, v, ok, want)
			}
		}
	}
}

func TestICMPProbe(t *testing.T) {
	probetest.RequireRoot(t, "raw ICMP socket (ping_group_range may be closed)")
	r := newRig(t, "modules:\n  icmp:\n    prober: icmp\n  icmp_df:\n    prober: icmp\n    icmp:\n      dont_fragment: true\n      payload_size: 100\n      ttl: 5\n  trace:\n    prober: trace\n")
	for _, m := range []string{"icmp", "icmp_df"} {
		s := r.probe(m, "127.0.0.1", "5")
		if v, _ := value(s.body, "probe_success"); v != "1" {
			t.Errorf("%s: %s", m, s.body)
		}
		for _, ph := range []string{"resolve", "setup", "rtt"} {
			if _, ok := value(s.body, `probe_icmp_duration_seconds{phase="`+ph+`"}`); !ok {
				t.Errorf("%s: no %s phase", m, ph)
			}
		}
	}
	s := r.probe("icmp", "127.0.0.1", "5")
	if v, _ := value(s.body, "probe_icmp_reply_hop_limit"); v != "64" {
		t.Errorf("hop limit %q", v)
	}
	s = r.probe("trace", "127.0.0.1", "5")
	if v, _ := value(s.body, "probe_trace_hops"); v != "1" {
		t.Errorf("trace hops %q\n%s", v, s.body)
	}
}

func echoPort(a string) string {
	_, p, _ := net.SplitHostPort(a)
	return p
}

func closedPort(t *testing.T) string {
	t.Helper()
	return probetest.ClosedTCPPort(t).String()
}

func TestBadScrapesAre400(t *testing.T) {
	r := newRig(t, "modules:\n  tcp:\n    prober: tcp\n  http:\n    prober: http\n  icmp:\n    prober: icmp\n  dns:\n    prober: dns\n    dns:\n      query_name: a.test\n")
	cases := []struct{ module, target, body string }{
		{"nope", "127.0.0.1:1", `Unknown module "nope"`},
		{"tcp", "", "Target parameter is missing"},
		{"tcp", "127.0.0.1", `Bad target "127.0.0.1" for prober tcp: want host:port`},
		{"tcp", "127.0.0.1:99999", `Bad target "127.0.0.1:99999" for prober tcp`},
		{"http", "http://[::1", `Bad target "http://[::1" for prober http`},
		{"icmp", "127.0.0.1:80", `Bad target "127.0.0.1:80" for prober icmp`},
		{"icmp", "a\nb", `Bad target "a\nb"`},
		{"dns", "udp://", `Bad target "udp://" for prober dns`},
	}
	for _, c := range cases {
		s := r.probe(c.module, c.target, "")
		if s.code != 400 || !strings.HasPrefix(s.body, c.body) {
			t.Errorf("%s %q: %d %q, want 400 %q", c.module, c.target, s.code, s.body, c.body)
		}
	}
	req, _ := http.NewRequest("GET", r.srv.URL+"/probe?module=tcp&target=127.0.0.1:1", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "soon")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("bad timeout header: %d", resp.StatusCode)
	}
}

// Hostile and dead peers: a scrape ends at its timeout (header minus the
// offset) with probe_success 0, whatever the peer does.
func TestHostilePeersNeverHoldAScrape(t *testing.T) {
	silent := probetest.ServeTCP(t, probetest.Silent)
	drip := probetest.ServeTCP(t, func(c net.Conn, stop <-chan struct{}) {
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"))
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	})
	// Reads the ClientHello and never answers it.
	tlsStall := probetest.ServeTCP(t, func(c net.Conn, stop <-chan struct{}) {
		go io.Copy(io.Discard, c)
		<-stop
	})
	// Lines forever, none matching, one every 20 ms.
	lines := probetest.ServeTCP(t, func(c net.Conn, stop <-chan struct{}) {
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if _, err := c.Write([]byte("not yet\n")); err != nil {
					return
				}
			}
		}
	})
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	r := newRig(t, `modules:
  http:
    prober: http
  tcp_expect:
    prober: tcp
    tcp:
      query_response:
        - expect: "^ready"
  tcp_tls:
    prober: tcp
    tcp:
      tls: true
  dns:
    prober: dns
    dns:
      query_name: a.test
  dns_tcp:
    prober: dns
    dns:
      query_name: a.test
      transport_protocol: tcp
`)
	cases := []struct{ module, target string }{
		{"http", "http://" + silent + "/"},
		{"http", "http://" + drip + "/"},
		{"http", "https://" + tlsStall + "/"},
		{"tcp_expect", silent},
		{"tcp_expect", lines},
		{"tcp_tls", tlsStall},
		{"dns", udp.LocalAddr().String()},
		{"dns_tcp", silent},
	}
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := r.probe(c.module, c.target, "1.5") // 1 s after the 0.5 s offset
			if v, _ := value(s.body, "probe_success"); v != "0" {
				t.Errorf("%s %s: %s", c.module, c.target, s.body)
			}
			if v, _ := value(s.body, "probe_timeout_seconds"); v != "1" {
				t.Errorf("%s: probe_timeout_seconds %q", c.module, v)
			}
			// Generous for a loaded machine; without the deadline these
			// peers hold a scrape forever.
			if s.elapsed > 6*time.Second {
				t.Errorf("%s %s: scrape took %v with a 1 s timeout", c.module, c.target, s.elapsed)
			}
		}()
	}
	wg.Wait()
}

// 200 scrapes at once, twice: the goroutines come back to where they were
// and the heap does not grow with the number of rounds.
func TestConcurrentScrapesDoNotLeak(t *testing.T) {
	r, httpURL, _, echoAddr := loopbackRig(t)
	base := runtime.NumGoroutine()
	round := func() {
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, tg := "tcp_connect", echoAddr
				if i%2 == 0 {
					m, tg = "http_2xx", httpURL
				}
				s := r.probe(m, tg, "10")
				if v, _ := value(s.body, "probe_success"); v != "1" {
					t.Errorf("%s: %s", m, s.body)
				}
			}()
		}
		wg.Wait()
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	round()
	h1 := heap()
	for range 3 {
		round()
	}
	h2 := heap()
	http.DefaultClient.CloseIdleConnections()
	r.srv.CloseClientConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+5 && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+5 {
		t.Errorf("goroutines: %d before, %d after", base, n)
	}
	if h2 > h1+16<<20 {
		t.Errorf("heap grew from %d to %d bytes over three rounds of 200 scrapes", h1, h2)
	}
	if n := r.ex.inFlight.Load(); n != 0 {
		t.Errorf("%d probes still in flight", n)
	}
}

func TestDebugAndMetricsAndReload(t *testing.T) {
	r, _, _, echoAddr := loopbackRig(t)
	s := r.probe("tcp_connect", echoAddr, "5")
	resp, err := http.Get(r.srv.URL + "/probe?module=tcp_connect&debug=true&target=" + url.QueryEscape(echoAddr))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Logs for the probe:", `msg="Beginning probe" probe=tcp`, "Metrics that would have been returned:", "probe_success 1", "Module configuration:"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("debug output lacks %q:\n%s", want, b)
		}
	}
	_ = s
	resp, err = http.Get(r.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`nettool_exporter_probes_total{module="tcp_connect",result="success"} 2`, "blackbox_exporter_config_last_reload_successful 1", "process_resident_memory_bytes"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, b)
		}
	}
	resp, err = http.Get(r.srv.URL + "/-/reload")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET /-/reload: %d", resp.StatusCode)
	}
}

func TestRegistryEscapesLabels(t *testing.T) {
	reg := NewRegistry()
	reg.Set("m", "help with \\ and\nnewline", 1, Label{"l", "a\"b\\c\nd\xff"})
	var b strings.Builder
	reg.WriteText(&b)
	want := "# HELP m help with \\\\ and\\nnewline\n# TYPE m gauge\nm{l=\"a\\\"b\\\\c\\nd\uFFFD\"} 1\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
	_ = fmt.Sprint()
}

// blackbox's irc_banner module: send, expect with a group, send the group
// back (${1}), expect again; and a STARTTLS that never finishes ends at
// the deadline.
func TestTCPQueryResponseExpandsGroups(t *testing.T) {
	irc := probetest.ServeTCP(t, func(c net.Conn, stop <-chan struct{}) {
		buf := make([]byte, 4096)
		var got []byte
		c.SetDeadline(time.Now().Add(10 * time.Second))
		for !strings.Contains(string(got), "USER") {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			got = append(got, buf[:n]...)
		}
		c.Write([]byte("NOTICE hello\r\nPING :k3y42\r\n"))
		got = got[:0]
		for !strings.Contains(string(got), "\n") {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			got = append(got, buf[:n]...)
		}
		if string(got) == "PONG k3y42\n" {
			c.Write([]byte(":server 001 prober :welcome\r\n"))
		} else {
			c.Write([]byte(":server 464 prober :bad pong\r\n"))
		}
		<-stop
	})
	r := newRig(t, `modules:
  irc_banner:
    prober: tcp
    tcp:
      query_response:
      - send: "NICK prober"
      - send: "USER prober prober prober :prober"
      - expect: "PING :([^ ]+)"
        send: "PONG ${1}"
      - expect: "^:[^ ]+ 001"
`)
	s := r.probe("irc_banner", irc, "5")
	if v, _ := value(s.body, "probe_success"); v != "1" {
		t.Errorf("irc: %s", s.body)
	}
}

// https against serve http --tls: trusted through ca_file, refused without
// it, accepted with insecure_skip_verify; the TLS series are there.
func TestHTTPSProbe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ts := serve.NewHTTPServer(serve.HTTPOptions{Addr: "127.0.0.1:0", TLS: true, Log: io.Discard})
	if err := ts.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); ts.Wait() })
	ca := t.TempDir() + "/ca.pem"
	if err := os.WriteFile(ca, ts.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, fmt.Sprintf("modules:\n  trusted:\n    prober: http\n    http:\n      tls_config: {ca_file: %q}\n  untrusted:\n    prober: http\n"+
		"  insecure:\n    prober: http\n    http:\n      tls_config: {insecure_skip_verify: true}\n  no_ssl:\n    prober: http\n    http:\n      fail_if_ssl: true\n      tls_config: {ca_file: %q}\n"+
		"  tcp_tls:\n    prober: tcp\n    tcp:\n      tls: true\n      tls_config: {ca_file: %q}\n", ca, ca, ca))
	addr := strings.TrimPrefix(ts.URL(), "https://")
	for _, c := range []struct{ module, target, success string }{
		{"trusted", ts.URL(), "1"}, {"untrusted", ts.URL(), "0"}, {"insecure", ts.URL(), "1"}, {"no_ssl", ts.URL(), "0"}, {"tcp_tls", addr, "1"},
	} {
		s := r.probe(c.module, c.target, "5")
		if v, _ := value(s.body, "probe_success"); v != c.success {
			t.Errorf("%s: probe_success %q, want %s\n%s", c.module, v, c.success, s.body)
		}
		if c.success == "1" {
			if _, ok := value(s.body, "probe_ssl_earliest_cert_expiry"); !ok {
				t.Errorf("%s: no probe_ssl_earliest_cert_expiry", c.module)
			}
			if !strings.Contains(s.body, `probe_tls_version_info{version="TLS 1.3"} 1`) || !strings.Contains(s.body, "probe_ssl_last_chain_info{fingerprint_sha256=") {
				t.Errorf("%s: TLS series:\n%s", c.module, s.body)
			}
		}
	}
}

// The last guard: a prober that overruns its deadline is answered for at
// the deadline (plus a grace) with probe_success 0, and ends later alone.
func TestProbePastDeadlineIsAnsweredWithout(t *testing.T) {
	release := make(chan struct{})
	Probers["stuck"] = func(ctx context.Context, _ string, _ *Module, s *Scrape) bool {
		<-ctx.Done()
		<-release
		s.Reg.Set("late_metric", "must not appear", 1)
		return true
	}
	defer delete(Probers, "stuck")
	r := newRig(t, "modules:\n  stuck:\n    prober: stuck\n")
	s := r.probe("stuck", "anything", "1.5")
	close(release)
	if v, _ := value(s.body, "probe_success"); v != "0" || strings.Contains(s.body, "late_metric") {
		t.Errorf("stuck probe:\n%s", s.body)
	}
	if v, _ := value(s.body, "probe_timeout_seconds"); v != "1" {
		t.Errorf("probe_timeout_seconds %q", v)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.ex.inFlight.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := r.ex.inFlight.Load(); n != 0 {
		t.Errorf("%d probes in flight", n)
	}
}
