package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
	"github.com/nettool/nettool/serve"
)

// daemon is a process a test started; it is killed at cleanup.
type daemon struct {
	cmd *exec.Cmd
}

// startDaemon starts name with args and returns the first line of stdout
// (or stderr when fromStderr) that matches re, as the address it serves on.
func startDaemon(t *testing.T, re *regexp.Regexp, fromStderr bool, name string, args ...string) (*daemon, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var pipe io.Reader
	var errBuf strings.Builder
	if fromStderr {
		p, _ := cmd.StderrPipe()
		pipe = p
	} else {
		p, _ := cmd.StdoutPipe()
		pipe = p
		cmd.Stderr = &errBuf
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sent := false
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case a, ok := <-found:
		if !ok {
			cmd.Wait()
			t.Fatalf("%s %q ended without printing its address: %s", name, args, errBuf.String())
		}
		return &daemon{cmd: cmd}, a
	case <-time.After(30 * time.Second):
		t.Fatalf("%s %q printed no address within 30 s", name, args)
	}
	return nil, ""
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHTTP polls url until it answers 200 or the deadline passes.
func waitHTTP(t *testing.T, u string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within %v: %v", u, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// sharedModules are modules both exporters read the same way.
const sharedModules = `modules:
  http_2xx:
    prober: http
    timeout: 3s
  http_tls:
    prober: http
    timeout: 3s
    http:
      fail_if_not_ssl: true
      tls_config:
        ca_file: "%CA%"
  tcp_tls:
    prober: tcp
    timeout: 3s
    tcp:
      tls: true
      tls_config:
        ca_file: "%CA%"
  tcp_connect:
    prober: tcp
    timeout: 3s
  tcp_echo:
    prober: tcp
    timeout: 3s
    tcp:
      query_response:
        - send: "hello"
        - expect: "^hello$"
  icmp:
    prober: icmp
    timeout: 3s
    icmp:
      preferred_ip_protocol: ip4
  dns_a:
    prober: dns
    timeout: 3s
    dns:
      query_name: host.example.test
      query_type: A
      preferred_ip_protocol: ip4
  dns_tcp_nx:
    prober: dns
    timeout: 3s
    dns:
      query_name: nowhere.example.test
      query_type: A
      transport_protocol: tcp
      preferred_ip_protocol: ip4
`

type probeCase struct {
	module, target string
	success        bool
}

type loopbackTargets struct {
	http, dns, echo, closed, ca string
	cases                       []probeCase
}

func startLoopbackTargets(t *testing.T) loopbackTargets {
	bin := nettoolBinary(t)
	_, httpURL := startDaemon(t, regexp.MustCompile(`"url": ?"([^"]+)"`), false, bin, "serve", "http", "127.0.0.1:0", "-q", "--json")
	_, dnsAddr := startDaemon(t, regexp.MustCompile(`listening on (\S+)`), true, bin, "serve", "dns", "127.0.0.1:0")
	_, echoAddr := startDaemon(t, regexp.MustCompile(`"address": ?"([^"]+)"`), false, bin, "serve", "echo", "127.0.0.1:0", "-q", "--json")
	closed := probetest.ClosedTCPPort(t).String()
	lt := loopbackTargets{http: httpURL, dns: dnsAddr, echo: echoAddr, closed: closed}
	// HTTPS: nettool's own server (serve http --tls, in-process to get its
	// certificate), trusted through tls_config.ca_file.
	ts := serve.NewHTTPServer(serve.HTTPOptions{Addr: "127.0.0.1:0", TLS: true})
	ctx, cancel := context.WithCancel(context.Background())
	if err := ts.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); ts.Wait() })
	lt.ca = filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(lt.ca, ts.CertPEM(), 0o644)
	tlsAddr := strings.TrimPrefix(ts.URL(), "https://")
	lt.cases = []probeCase{
		{"http_tls", ts.URL() + "/", true},
		{"http_2xx", ts.URL() + "/", false}, // not trusted
		{"tcp_tls", tlsAddr, true},
		{"http_2xx", httpURL + "/", true},
		{"http_2xx", httpURL + "/status/500", false},
		{"http_2xx", "http://" + closed + "/", false},
		{"tcp_connect", echoAddr, true},
		{"tcp_connect", closed, false},
		{"tcp_echo", echoAddr, true},
		{"icmp", "127.0.0.1", true},
		{"dns_a", dnsAddr, true},
		{"dns_tcp_nx", dnsAddr, false},
	}
	return lt
}

func metricNames(body string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(l, "# TYPE "); ok {
			out = append(out, strings.Fields(rest)[0])
		}
	}
	sort.Strings(out)
	return out
}

func sampleValue(body, name string) string {
	for _, l := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(l, name+" "); ok {
			return rest
		}
	}
	return ""
}

// nettool serve metrics and blackbox_exporter read the same module file and
// probe the same loopback targets: same probe_success, blackbox's metric
// names all present in nettool's answer, and promtool happy with both. Then
// a real Prometheus scrapes both exporters and sees the same.
func TestServeMetricsAgainstBlackboxAndPrometheus(t *testing.T) {
	probetest.RequireRoot(t, "ICMP probes through raw sockets, as blackbox_exporter does")
	bbBin := probetest.LookPeer(t, "prometheus-blackbox-exporter")
	promBin := probetest.LookPeer(t, "prometheus")
	promtool := probetest.LookPeer(t, "promtool")
	dir := t.TempDir()
	modFile := filepath.Join(dir, "blackbox.yml")
	t0 := time.Now()
	lt := startLoopbackTargets(t)
	os.WriteFile(modFile, []byte(strings.ReplaceAll(sharedModules, "%CA%", lt.ca)), 0o644)

	_, ntAddr := startDaemon(t, regexp.MustCompile(`"address": ?"([^"]+)"`), false, nettoolBinary(t), "serve", "metrics", "127.0.0.1:0", "--config", modFile, "--json", "-q")
	bbAddr := freePort(t)
	startBB := exec.Command(bbBin, "--config.file="+modFile, "--web.listen-address="+bbAddr, "--log.level=error")
	startBB.Stdout, startBB.Stderr = io.Discard, io.Discard
	if err := startBB.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { startBB.Process.Kill(); startBB.Wait() })
	t.Logf("targets at %v", time.Since(t0))
	waitHTTP(t, "http://"+bbAddr+"/-/healthy", 15*time.Second)
	t.Logf("blackbox at %v", time.Since(t0))

	// Prometheus starts while the direct comparison runs.
	promAddr := freePort(t)
	var static strings.Builder
	for _, c := range lt.cases {
		fmt.Fprintf(&static, "      - targets: [%q]\n        labels: {__param_module: %s}\n", c.target, c.module)
	}
	relabel := func(exporter string) string {
		return `    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - source_labels: [__param_module]
        target_label: module
      - target_label: __address__
        replacement: ` + exporter + "\n"
	}
	promConf := "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n" +
		"  - job_name: nettool\n    metrics_path: /probe\n    static_configs:\n" + static.String() + relabel(ntAddr) +
		"  - job_name: blackbox\n    metrics_path: /probe\n    static_configs:\n" + static.String() + relabel(bbAddr)
	promFile := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(promFile, []byte(promConf), 0o644)
	prom := exec.Command(promBin, "--config.file="+promFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr, "--log.level=error")
	prom.Stdout, prom.Stderr = io.Discard, io.Discard
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prom.Process.Kill(); prom.Wait() })

	var wg sync.WaitGroup
	for _, c := range lt.cases {
		q := "?module=" + c.module + "&target=" + url.QueryEscape(c.target)
		nt := get(t, "http://"+ntAddr+"/probe"+q)
		bb := get(t, "http://"+bbAddr+"/probe"+q)
		want := map[bool]string{true: "1", false: "0"}[c.success]
		if v := sampleValue(nt, "probe_success"); v != want {
			t.Errorf("nettool %s %s: probe_success %q, want %s\n%s", c.module, c.target, v, want, nt)
		}
		if v := sampleValue(bb, "probe_success"); v != want {
			t.Errorf("blackbox %s %s: probe_success %q, want %s (the test's expectation is wrong)", c.module, c.target, v, want)
		}
		have := map[string]bool{}
		for _, n := range metricNames(nt) {
			have[n] = true
		}
		for _, n := range metricNames(bb) {
			if !have[n] {
				t.Errorf("%s %s: blackbox has %s, nettool does not", c.module, c.target, n)
			}
		}
		if c.success {
			for who, body := range map[string]string{"nettool": nt, "blackbox": bb} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cmd := exec.Command(promtool, "check", "metrics")
					cmd.Stdin = strings.NewReader(body)
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Errorf("promtool check metrics on %s's %s answer: %v\n%s", who, c.module, err, out)
					}
				}()
			}
		}
	}
	own := get(t, "http://"+ntAddr+"/metrics")
	wg.Add(1)
	go func() {
		defer wg.Done()
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(own)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics on nettool's /metrics: %v\n%s", err, out)
		}
	}()
	wg.Wait()

	t.Logf("direct comparison done at %v", time.Since(t0))
	// Prometheus: every series of both jobs, with the same probe_success.
	waitHTTP(t, "http://"+promAddr+"/-/ready", 30*time.Second)
	t.Logf("prometheus ready at %v", time.Since(t0))
	type series struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	query := func(q string) []series {
		var r struct {
			Data struct {
				Result []series `json:"result"`
			} `json:"data"`
		}
		body := get(t, "http://"+promAddr+"/api/v1/query?query="+url.QueryEscape(q))
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("query %s: %v: %s", q, err, body)
		}
		return r.Data.Result
	}
	deadline := time.Now().Add(30 * time.Second)
	var got []series
	for {
		got = query("probe_success")
		if len(got) >= 2*len(lt.cases) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("all series in at %v", time.Since(t0))
	if len(got) != 2*len(lt.cases) {
		t.Fatalf("Prometheus has %d probe_success series, want %d: %v", len(got), 2*len(lt.cases), got)
	}
	byJob := map[string]map[string]string{}
	for _, s := range got {
		job := s.Metric["job"]
		if byJob[job] == nil {
			byJob[job] = map[string]string{}
		}
		byJob[job][s.Metric["module"]+" "+s.Metric["instance"]] = fmt.Sprint(s.Value[1])
	}
	for _, c := range lt.cases {
		k := c.module + " " + c.target
		want := map[bool]string{true: "1", false: "0"}[c.success]
		if byJob["nettool"][k] != want || byJob["blackbox"][k] != want {
			t.Errorf("Prometheus: %s: nettool %q, blackbox %q, want %s", k, byJob["nettool"][k], byJob["blackbox"][k], want)
		}
	}
	for _, q := range []string{
		`probe_http_duration_seconds{job="nettool",phase="connect"}`,
		`probe_http_duration_seconds{job="nettool",phase="processing"}`,
		`probe_icmp_duration_seconds{job="nettool",phase="rtt"}`,
		`probe_dns_duration_seconds{job="nettool",phase="request"}`,
		`probe_http_duration_seconds{job="nettool",phase="tls"} > 0`,
		`probe_tls_version_info{job="nettool",module="http_tls"}`,
		`probe_ssl_earliest_cert_expiry{job="nettool",module="tcp_tls"} > time()`,
		`up{job="nettool"} == 1`,
	} {
		if len(query(q)) == 0 {
			t.Errorf("Prometheus has no %s", q)
		}
	}
	if down := query(`up == 0`); len(down) != 0 {
		t.Errorf("failed scrapes: %v", down)
	}
}

func TestServeMetricsConfigErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"unknown prober": "modules:\n  m:\n    prober: smtp\n",
		"unknown key":    "modules:\n  m:\n    prober: http\n    http:\n      methd: GET\n",
		"bad regexp":     "modules:\n  m:\n    prober: http\n    http:\n      fail_if_body_matches_regexp: ['(']\n",
		"bad duration":   "modules:\n  m:\n    prober: http\n    timeout: soon\n",
	}
	for name, body := range cases {
		f := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yml")
		os.WriteFile(f, []byte(body), 0o644)
		out, errs, code := runCLI(t, "serve", "metrics", "127.0.0.1:0", "--config", f)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "nettool: serve metrics: "+f+":") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, out, errs)
		}
	}
	_, errs, code := runCLI(t, "serve", "metrics", "--config", filepath.Join(dir, "missing.yml"))
	if code != 2 || !strings.Contains(errs, "missing.yml") {
		t.Errorf("missing file: exit %d %q", code, errs)
	}
}

// SIGHUP and POST /-/reload read the module file again; a file that no
// longer loads keeps the old modules and says so in /metrics.
func TestServeMetricsReload(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "m.yml")
	os.WriteFile(f, []byte("modules:\n  one:\n    prober: tcp\n"), 0o644)
	d, addr := startDaemon(t, regexp.MustCompile(`"address": ?"([^"]+)"`), false, nettoolBinary(t), "serve", "metrics", "127.0.0.1:0", "--config", f, "-o", "jsonl")
	target := url.QueryEscape(probetest.ClosedTCPPort(t).String())
	status := func(module string) int {
		resp, err := http.Get("http://" + addr + "/probe?module=" + module + "&target=" + target)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status("one") != 200 || status("two") != 400 {
		t.Fatalf("before reload: one %d, two %d", status("one"), status("two"))
	}
	os.WriteFile(f, []byte("modules:\n  two:\n    prober: tcp\n"), 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for status("two") != 200 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if status("two") != 200 || status("one") != 400 {
		t.Fatalf("after SIGHUP: one %d, two %d", status("one"), status("two"))
	}
	os.WriteFile(f, []byte("modules:\n  three:\n    prober: tcpp\n"), 0o644)
	resp, err := http.Post("http://"+addr+"/-/reload", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(b), `m.yml:3: module "three": prober: unknown prober "tcpp"`) {
		t.Errorf("bad reload: %d %s", resp.StatusCode, b)
	}
	if status("two") != 200 {
		t.Error("the old modules did not stay")
	}
	if m := get(t, "http://"+addr+"/metrics"); !strings.Contains(m, "nettool_exporter_config_last_reload_successful 0") {
		t.Errorf("/metrics after a failed reload:\n%s", m)
	}
	os.WriteFile(f, []byte("modules:\n  four:\n    prober: icmp\n"), 0o644)
	resp, err = http.Post("http://"+addr+"/-/reload", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("good reload: %d", resp.StatusCode)
	}
	if m := get(t, "http://"+addr+"/metrics"); !strings.Contains(m, "nettool_exporter_config_last_reload_successful 1") {
		t.Errorf("/metrics after a good reload:\n%s", m)
	}
}
