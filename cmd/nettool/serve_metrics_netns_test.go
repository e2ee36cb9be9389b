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
