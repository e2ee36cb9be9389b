package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettool/nettool/probe/probetest"
	"github.com/nettool/nettool/serve"
)

// promtoolCheck runs promtool check metrics on text when promtool is there.
func promtoolCheck(t *testing.T, what, text string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		return // TestServeMetricsAgainstBlackboxAndPrometheus reports the missing peer
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics on %s: %v\n%s\n%s", what, err, out, text)
	}
}

func TestOutputProm(t *testing.T) {
	hs := getServe(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ds, err := serve.NewDNSServer(serve.DNSOptions{Addr: "127.0.0.1:0", UDPWorkers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer ds.Shutdown(context.Background())
	open := probetest.ServeTCP(t, probetest.Silent)
	closed := probetest.ClosedTCPPort(t).String()
	cases := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"tcp", open, "-c", "1", "-o", "prom"}, 0, []string{`probe_success{target="` + open + `",address="` + open + `"} 1`, `nettool_tcp_connect_seconds{target="` + open + `",address="` + open + `",stat="avg"} `}},
		{[]string{"tcp", closed, "-c", "1", "-o", "prom"}, 1, []string{`probe_success{target="` + closed + `",address="` + closed + `"} 0`, "nettool_tcp_connected{"}},
		{[]string{"get", hs.URL() + "/redirect/1", "-L", "-o", "prom"}, 0, []string{`probe_success{target="` + hs.URL() + `/redirect/1"} 1`, `probe_http_redirects{target="` + hs.URL() + `/redirect/1"} 1`, `probe_http_duration_seconds{target="` + hs.URL() + `/redirect/1",phase="processing"} `, `probe_http_status_code{target="` + hs.URL() + `/redirect/1"} 200`}},
		{[]string{"resolve", "@" + ds.Addr(), "host.example.test", "A", "-o", "prom"}, 0, []string{`probe_success{target="host.example.test.",type="A",server="` + ds.Addr() + `"} 1`, `probe_dns_answer_rrs{target="host.example.test.",type="A",server="` + ds.Addr() + `"} 1`, `nettool_dns_rcode_info{target="host.example.test.",type="A",server="` + ds.Addr() + `",rcode="NOERROR"} 1`}},
		{[]string{"resolve", "@" + ds.Addr(), "nowhere.example.test", "A", "-o", "prom"}, 1, []string{`rcode="NXDOMAIN"} 1`, `probe_success{target="nowhere.example.test.",type="A",server="` + ds.Addr() + `"} 0`}},
	}
	if os.Geteuid() == 0 {
		cases = append(cases, struct {
			args []string
			code int
			want []string
		}{[]string{"ping", "127.0.0.1", "-c", "1", "-o", "prom"}, 0, []string{`probe_success{target="127.0.0.1",address="127.0.0.1"} 1`, `nettool_ping_packets_received{target="127.0.0.1",address="127.0.0.1"} 1`, `nettool_ping_rtt_seconds{target="127.0.0.1",address="127.0.0.1",stat="min"} `}})
	}
	for _, c := range cases {
		out, errs, code := runCLI(t, c.args...)
		if code != c.code {
			t.Errorf("%q: exit %d, want %d: %s", c.args, code, c.code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%q: no %q in\n%s", c.args, w, out)
			}
		}
		if strings.Contains(out, "{\"") {
			t.Errorf("%q: JSON in the prom output:\n%s", c.args, out)
		}
		promtoolCheck(t, strings.Join(c.args, " "), out)
	}
}

func TestOutputPromFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "tcp.prom")
	os.WriteFile(f, []byte("old\n"), 0o600)
	open := probetest.ServeTCP(t, probetest.Silent)
	out, errs, code := runCLI(t, "tcp", open, "-c", "1", "-o", "prom="+f)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	b, _ := os.ReadFile(f)
	if !strings.Contains(string(b), "probe_success{") {
		t.Errorf("file: %q", b)
	}
	fi, _ := os.Stat(f)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	_, errs, code = runCLI(t, "tcp", open, "-c", "1", "-o", "prom="+filepath.Join(dir, "no", "such", "dir.prom"))
	if code != 3 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "nettool: tcp: -o prom: ") {
		t.Errorf("unwritable: exit %d, %q", code, errs)
	}
	_, errs, code = runCLI(t, "tcp", open, "-c", "1", "-o", "prom="+dir)
	if code != 2 || !strings.Contains(errs, "not a regular file") {
		t.Errorf("a directory: exit %d, %q", code, errs)
	}
	// A command without metrics refuses before it does anything (this one
	// would otherwise fail on its missing file: nothing leaves the machine).
	_, errs, code = runCLI(t, "serve", "metrics", "--config", filepath.Join(dir, "none.yml"), "-o", "prom")
	if code != 2 || errs != "nettool: serve metrics: -o prom is for ping, tcp, get and resolve, not metrics\n" {
		t.Errorf("serve metrics: exit %d, %q", code, errs)
	}
}
