package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// Vantage points: two exporters in their own namespaces, one of which has a
// path to the target, scraped by one Prometheus in a third namespace with a
// vantage label per job. Prometheus sees the target up from a and down
// from b. Nothing leaves the namespaces the test made.
//
//	target 203.0.113.10 --- a (exporter) --- hub (Prometheus) --- b (exporter)
func TestServeMetricsVantagePoints(t *testing.T) {
	promBin := probetest.LookPeer(t, "prometheus")
	curl := probetest.LookPeer(t, "curl")
	hub := probetest.NewNetns(t, "metrics-hub")
	a := probetest.NewNetns(t, "metrics-va")
	b := probetest.NewNetns(t, "metrics-vb")
	tg := probetest.NewNetns(t, "metrics-tg")
	probetest.Veth(t, hub, "ha", a, "ah")
	probetest.Veth(t, hub, "hb", b, "bh")
	probetest.Veth(t, a, "at", tg, "ta")
	hub.IP("addr", "add", "198.51.100.1/30", "dev", "ha")
	a.IP("addr", "add", "198.51.100.2/30", "dev", "ah")
	hub.IP("addr", "add", "198.51.100.5/30", "dev", "hb")
	b.IP("addr", "add", "198.51.100.6/30", "dev", "bh")
	a.IP("addr", "add", "203.0.113.1/24", "dev", "at")
	tg.IP("addr", "add", "203.0.113.10/24", "dev", "ta")

	dir := t.TempDir()
	mods := filepath.Join(dir, "blackbox.yml")
	os.WriteFile(mods, []byte("modules:\n  icmp:\n    prober: icmp\n    icmp:\n      preferred_ip_protocol: ip4\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bin := nettoolBinary(t)
	for _, ns := range []*probetest.Netns{a, b} {
		cmd := ns.Command(ctx, bin, "serve", "metrics", "0.0.0.0:9115", "--config", mods, "-o", "jsonl", "-q")
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		var doc struct{ Address string }
		if err := json.NewDecoder(out).Decode(&doc); err != nil || doc.Address != "0.0.0.0:9115" {
			t.Fatalf("exporter in %s: %+v %v", ns.Name, doc, err)
		}
		go io.Copy(io.Discard, out)
	}
	job := func(name, exporter string) string {
		return fmt.Sprintf(`  - job_name: %s
    metrics_path: /probe
    params: {module: [icmp]}
    static_configs:
      - targets: ["203.0.113.10"]
        labels: {vantage: %s}
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: "%s"}
`, "probe_from_"+name, name, exporter)
	}
	conf := "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n" + job("a", "198.51.100.2:9115") + job("b", "198.51.100.6:9115")
	promFile := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(promFile, []byte(conf), 0o644)
	prom := hub.Command(ctx, promBin, "--config.file="+promFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:9090", "--log.level=error")
	prom.Stdout, prom.Stderr = io.Discard, io.Discard
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prom.Process.Kill(); prom.Wait() })

	query := func(q string) string {
		out, _ := hub.Command(ctx, curl, "-s", "--max-time", "5", "http://127.0.0.1:9090/api/v1/query?query="+url.QueryEscape(q)).Output()
		return string(out)
	}
	re := regexp.MustCompile(`"vantage":"(\w)"[^}]*\},"value":\[[0-9.]+,"(\d)"\]`)
	deadline := time.Now().Add(40 * time.Second)
	var got map[string]string
	for {
		got = map[string]string{}
		for _, m := range re.FindAllStringSubmatch(query(`probe_success{instance="203.0.113.10"}`), -1) {
			got[m[1]] = m[2]
		}
		if got["a"] == "1" && got["b"] == "0" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got["a"] != "1" || got["b"] != "0" {
		t.Fatalf("probe_success by vantage: %v (want a=1, b=0)\n%s", got, query(`probe_success`))
	}
	if out := query(`up == 0`); !strings.Contains(out, `"result":[]`) {
		t.Errorf("failed scrapes: %s", out)
	}
}

// The trace prober through a router: client - r - server. Hop count, the
// destination reached, and per-hop series labelled with the router's
// address, with ICMP and with TCP to a listening port (blackbox #1463).
func TestServeMetricsTraceThroughRouter(t *testing.T) {
	curl := probetest.LookPeer(t, "curl")
	c := probetest.NewNetns(t, "metrics-c")
	r := probetest.NewNetns(t, "metrics-r")
	s := probetest.NewNetns(t, "metrics-s")
	probetest.Veth(t, c, "cr", r, "rc")
	probetest.Veth(t, r, "rs", s, "sr")
	c.IP("addr", "add", "198.51.100.2/24", "dev", "cr")
	r.IP("addr", "add", "198.51.100.1/24", "dev", "rc")
	r.IP("addr", "add", "203.0.113.1/24", "dev", "rs")
	s.IP("addr", "add", "203.0.113.10/24", "dev", "sr")
	c.IP("route", "add", "default", "via", "198.51.100.1")
	s.IP("route", "add", "default", "via", "203.0.113.1")
	r.Sysctl("net.ipv4.ip_forward=1")

	dir := t.TempDir()
	mods := filepath.Join(dir, "m.yml")
	os.WriteFile(mods, []byte("modules:\n  trace:\n    prober: trace\n    trace:\n      preferred_ip_protocol: ip4\n      max_hops: 8\n"+
		"  trace_tcp:\n    prober: trace\n    trace:\n      preferred_ip_protocol: ip4\n      method: tcp\n      port: 10000\n      max_hops: 8\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bin := nettoolBinary(t)
	echo := s.Command(ctx, bin, "serve", "echo", "203.0.113.10:10000", "-q", "-o", "jsonl")
	echoOut, _ := echo.StdoutPipe()
	if err := echo.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Process.Kill(); echo.Wait() })
	var doc struct{ Address string }
	if err := json.NewDecoder(echoOut).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	ex := c.Command(ctx, bin, "serve", "metrics", "127.0.0.1:9115", "--config", mods, "-o", "jsonl", "-q")
	exOut, _ := ex.StdoutPipe()
	if err := ex.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Process.Kill(); ex.Wait() })
	if err := json.NewDecoder(exOut).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	// The first packets wait for neighbour discovery: the trace is asked
	// again until the path answers (bounded), as a person would.
	for _, module := range []string{"trace", "trace_tcp"} {
		var body string
		deadline := time.Now().Add(20 * time.Second)
		for {
			out, _ := c.Command(ctx, curl, "-s", "--max-time", "10", "-H", "X-Prometheus-Scrape-Timeout-Seconds: 5",
				"http://127.0.0.1:9115/probe?module="+module+"&target=203.0.113.10").Output()
			body = string(out)
			if sampleValue(body, "probe_success") == "1" || time.Now().After(deadline) {
				break
			}
		}
		for series, want := range map[string]string{
			"probe_success":                   "1",
			"probe_trace_hops":                "2",
			"probe_trace_destination_reached": "1",
			`probe_trace_hop_loss_ratio{hop="1",address="198.51.100.1"}`: "0",
		} {
			if v := sampleValue(body, series); v != want {
				t.Errorf("%s: %s = %q, want %s\n%s", module, series, v, want, body)
			}
		}
		if !strings.Contains(body, `probe_trace_hop_rtt_seconds{hop="2",address="203.0.113.10"} `) {
			t.Errorf("%s: no RTT series for the destination:\n%s", module, body)
		}
	}
}

// dont_fragment: over a 1280-byte link a 1400-byte payload crosses in
// fragments, and with the DF bit it cannot leave.
func TestServeMetricsICMPDontFragment(t *testing.T) {
	curl := probetest.LookPeer(t, "curl")
	a := probetest.NewNetns(t, "metrics-dfa")
	b := probetest.NewNetns(t, "metrics-dfb")
	probetest.Veth(t, a, "ab", b, "ba")
	a.IP("link", "set", "ab", "mtu", "1280")
	b.IP("link", "set", "ba", "mtu", "1280")
	a.IP("addr", "add", "198.51.100.1/24", "dev", "ab")
	b.IP("addr", "add", "198.51.100.2/24", "dev", "ba")
	dir := t.TempDir()
	mods := filepath.Join(dir, "m.yml")
	os.WriteFile(mods, []byte("modules:\n  big:\n    prober: icmp\n    icmp:\n      preferred_ip_protocol: ip4\n      payload_size: 1400\n"+
		"  big_df:\n    prober: icmp\n    icmp:\n      preferred_ip_protocol: ip4\n      payload_size: 1400\n      dont_fragment: true\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ex := a.Command(ctx, nettoolBinary(t), "serve", "metrics", "127.0.0.1:9115", "--config", mods, "-o", "jsonl", "-q")
	exOut, _ := ex.StdoutPipe()
	if err := ex.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Process.Kill(); ex.Wait() })
	var doc struct{ Address string }
	if err := json.NewDecoder(exOut).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	probe := func(module string) string {
		out, _ := a.Command(ctx, curl, "-s", "--max-time", "10", "-H", "X-Prometheus-Scrape-Timeout-Seconds: 3",
			"http://127.0.0.1:9115/probe?module="+module+"&target=198.51.100.2").Output()
		return string(out)
	}
	// The first echo may wait for ARP: asked again until it answers (bounded).
	var body string
	for range 5 {
		if body = probe("big"); sampleValue(body, "probe_success") == "1" {
			break
		}
	}
	if sampleValue(body, "probe_success") != "1" {
		t.Fatalf("1400 bytes over a 1280 link without DF:\n%s", body)
	}
	if body = probe("big_df"); sampleValue(body, "probe_success") != "0" {
		t.Errorf("1400 bytes with DF over a 1280 link:\n%s", body)
	}
}
