package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/ipinfo"
)

// myipFake is a loopback provider answering body, counting its hits.
type myipFake struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func myipNewFake(t *testing.T, body string) *myipFake {
	t.Helper()
	f := &myipFake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *myipFake) url() string { return f.srv.URL + "/ip" }

// myipFakeDNS is a loopback DNS provider answering A queries with addr.
func myipFakeDNS(t *testing.T, addr string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) }, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		rr, _ := dns.NewRR(q.Question[0].Name + " 0 IN A " + addr)
		m.Answer = append(m.Answer, rr)
		_ = w.WriteMsg(m)
	})}
	done := make(chan struct{})
	go func() { _ = srv.ActivateAndServe(); close(done) }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown(); <-done })
	return pc.LocalAddr().String()
}

func TestMyipText(t *testing.T) {
	a, b := myipNewFake(t, "203.0.113.7\n"), myipNewFake(t, "203.0.113.7")
	out, errs, code := runCLI(t, "myip", "-4", "--provider", a.url(), "--provider", b.url(), "--allow-documentation")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"External (what providers see)",
		"IPv4  203.0.113.7",
		"2 of 2 providers agree (quorum 2)",
		"Internal (this host)",
		"INTERFACE  STATE",
		"127.0.0.1/8",
		"loopback",
		"behind NAT: the world sees 203.0.113.7, which is on no interface here",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "IPv6") {
		t.Errorf("-4 output mentions IPv6:\n%s", out)
	}
	if !strings.Contains(errs, "asking 2 providers over IPv4, quorum 2") {
		t.Errorf("stderr %q", errs)
	}
}

func TestMyipJSON(t *testing.T) {
	a := myipNewFake(t, "203.0.113.7\n")
	dnsAddr := myipFakeDNS(t, "203.0.113.7")
	liar := myipNewFake(t, "10.9.9.9\n")
	out, errs, code := runCLI(t, "myip", "--json", "-4", "--provider", a.url(), "--provider", "dns:myip.test@[::1]:9,"+dnsAddr, "--provider", liar.url(), "--quorum", "2", "--allow-documentation")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var rep struct {
		Type     string `json:"type"`
		OK       bool   `json:"ok"`
		External []struct {
			Type     string           `json:"type"`
			Family   string           `json:"family"`
			OK       bool             `json:"ok"`
			Address  string           `json:"address"`
			Quorum   int              `json:"quorum"`
			Agreeing int              `json:"agreeing"`
			Answers  []map[string]any `json:"answers"`
		} `json:"external"`
		Internal struct {
			Type     string `json:"type"`
			Outbound []struct {
				Family string `json:"family"`
			} `json:"outbound"`
			Interfaces []struct {
				Name      string `json:"name"`
				State     string `json:"state"`
				MTU       int    `json:"mtu"`
				Addresses []struct {
					Address string `json:"address"`
					Class   string `json:"class"`
				} `json:"addresses"`
			} `json:"interfaces"`
		} `json:"internal"`
		NAT []struct {
			Type      string `json:"type"`
			Family    string `json:"family"`
			BehindNAT bool   `json:"behind_nat"`
			External  string `json:"external"`
		} `json:"nat"`
		ElapsedMS float64 `json:"elapsed_ms"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Type != "myip" || !rep.OK || len(rep.External) != 1 || rep.ElapsedMS <= 0 {
		t.Fatalf("%s", out)
	}
	x := rep.External[0]
	if x.Type != "external_address" || x.Family != "ipv4" || !x.OK || x.Address != "203.0.113.7" || x.Quorum != 2 || x.Agreeing != 2 || len(x.Answers) != 3 {
		t.Fatalf("%+v", x)
	}
	if x.Answers[1]["method"] != "dns" || x.Answers[1]["server"] != dnsAddr || x.Answers[1]["agrees"] != true {
		t.Errorf("dns answer %v", x.Answers[1])
	}
	if l := x.Answers[2]; l["ok"] != false || (l["failure"] != ipinfo.FailNotPublic && l["failure"] != ipinfo.FailCanceled) {
		t.Errorf("private answer %v", l)
	}
	if rep.Internal.Type != "internal" || len(rep.Internal.Outbound) != 1 || rep.Internal.Outbound[0].Family != "ipv4" {
		t.Errorf("internal %+v", rep.Internal)
	}
	foundLo := false
	for _, it := range rep.Internal.Interfaces {
		for _, a := range it.Addresses {
			if a.Address == "127.0.0.1" && a.Class == "loopback" && it.State == "up" && it.MTU > 0 {
				foundLo = true
			}
			if strings.Contains(a.Address, ":") {
				t.Errorf("-4 listed %s", a.Address)
			}
		}
	}
	if !foundLo {
		t.Errorf("no loopback interface in %+v", rep.Internal.Interfaces)
	}
	if len(rep.NAT) != 1 || rep.NAT[0].Type != "nat" || !rep.NAT[0].BehindNAT || rep.NAT[0].External != "203.0.113.7" {
		t.Errorf("nat %+v", rep.NAT)
	}
}

func TestMyipJSONLStreamsAnswers(t *testing.T) {
	a, b := myipNewFake(t, "203.0.113.7\n"), myipNewFake(t, "203.0.113.7\n")
	out, errs, code := runCLI(t, "myip", "-o", "jsonl", "--external", "-4", "--provider", a.url(), "--provider", b.url(), "--allow-documentation")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	var types []string
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		types = append(types, m["type"].(string))
	}
	if strings.Join(types, ",") != "provider_answer,provider_answer,myip" {
		t.Fatalf("jsonl types %v\n%s", types, out)
	}
	if strings.Contains(out, `"internal"`) {
		t.Errorf("--external printed the internal picture")
	}
}

func TestMyipShort(t *testing.T) {
	a, b := myipNewFake(t, "203.0.113.7\n"), myipNewFake(t, "203.0.113.7")
	out, errs, code := runCLI(t, "myip", "--short", "--provider", a.url(), "--provider", b.url(), "--allow-documentation", "-q")
	if code != 0 || out != "203.0.113.7\n" {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
	// Without --allow-documentation the stand-in address is refused.
	out, errs, code = runCLI(t, "myip", "--short", "-4", "--provider", a.url(), "--provider", b.url())
	if code != 1 || out != "" || !strings.Contains(errs, "no valid IPv4 answer") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
}

func TestMyipNoQuorum(t *testing.T) {
	a, b := myipNewFake(t, "203.0.113.7\n"), myipNewFake(t, "198.51.100.66\n")
	out, errs, code := runCLI(t, "myip", "--short", "-4", "--provider", a.url(), "--provider", b.url(), "--allow-documentation")
	if code != 1 || out != "" {
		t.Fatalf("exit %d stdout %q", code, out)
	}
	if !strings.Contains(errs, "nettool: myip: IPv4: providers disagree (198.51.100.66 x1, 203.0.113.7 x1), quorum 2 not reached") {
		t.Fatalf("stderr %q", errs)
	}
	// Quorum 1: the first valid answer stands.
	_, errs, code = runCLI(t, "myip", "--short", "-4", "--provider", a.url(), "--quorum", "1", "--allow-documentation")
	if code != 0 {
		t.Fatalf("quorum 1: exit %d %q", code, errs)
	}
}

func TestMyipVerboseShowsEveryProvider(t *testing.T) {
	a, b := myipNewFake(t, "203.0.113.7\n"), myipNewFake(t, "203.0.113.7")
	evil := myipNewFake(t, "\x1b[2J\x1b]0;owned\x07")
	priv := myipNewFake(t, "192.168.1.20\n")
	out, errs, code := runCLI(t, "myip", "-v", "--external", "-4", "--provider", evil.url(), "--provider", priv.url(), "--provider", a.url(), "--provider", b.url(), "--quorum", "2", "--allow-documentation")
	if code != 0 {
		t.Fatalf("exit %d %q", code, errs)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Fatalf("raw control bytes from a provider reached stdout: %q", out)
	}
	for _, want := range []string{"PROVIDER", evil.url(), priv.url(), "agrees"} {
		if !strings.Contains(out, want) {
			t.Errorf("-v output lacks %q:\n%s", want, out)
		}
	}
}

func TestMyipTimeout(t *testing.T) {
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer stall.Close()
	out, errs, code := runCLI(t, "myip", "-v", "--external", "-4", "--provider", stall.URL, "--timeout", "200ms")
	if code != 1 || !strings.Contains(out, "timeout") || !strings.Contains(errs, "no valid IPv4 answer from 1 provider") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
}

func TestMyipForcedFamily(t *testing.T) {
	a := myipNewFake(t, "203.0.113.7\n")
	out, errs, code := runCLI(t, "myip", "-6", "-v", "--external", "--provider", a.url(), "--allow-documentation")
	if code != 1 || !strings.Contains(out, "cannot be asked over IPv6") || !strings.Contains(errs, "IPv6:") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
	// A provider answering IPv6 to an IPv4 question is refused.
	six := myipNewFake(t, "2001:db8::7\n")
	out, _, code = runCLI(t, "myip", "-4", "-v", "--external", "--provider", six.url(), "--allow-documentation")
	if code != 1 || !strings.Contains(out, "wrong_family") {
		t.Fatalf("exit %d stdout %q", code, out)
	}
}

func TestMyipUsageErrors(t *testing.T) {
	good := myipNewFake(t, "203.0.113.7\n")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"myip", "--provider", good.url(), "--provider", "ftp://x/"}, `nettool: myip: bad provider "ftp://x/"`},
		{[]string{"myip", "--provider", good.url(), "--provider", "dns:myip.test@"}, `nettool: myip: bad provider "dns:myip.test@": empty server`},
		{[]string{"myip", "--provider", good.url(), "--provider", "dns:x.test/MX@127.0.0.1"}, `is not a class (IN, CH) or type (A, AAAA, TXT)`},
		{[]string{"myip", "--provider", good.url(), "--quorum", "2"}, "nettool: myip: --quorum 2: want 1 to 1"},
		{[]string{"myip", "--provider", good.url(), "--quorum", "0"}, "nettool: myip: --quorum 0"},
		{[]string{"myip", "--provider", good.url(), "--short", "--internal"}, "nettool: myip: --short prints only external addresses"},
		{[]string{"myip", "--provider", good.url(), "--timeout", "0s"}, "nettool: myip: --timeout must be positive"},
		{[]string{"myip", "--provider", good.url(), "extra"}, "nettool: myip: no arguments expected"},
	}
	for _, c := range cases {
		out, errs, code := runCLI(t, c.args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d stdout %q stderr %q, want %q", c.args, code, out, errs, c.want)
		}
	}
	if n := good.hits.Load(); n != 0 {
		t.Fatalf("a bad command line still contacted a provider %d times", n)
	}
}

func TestMyipInternalContactsNoProvider(t *testing.T) {
	f := myipNewFake(t, "203.0.113.7\n")
	out, errs, code := runCLI(t, "myip", "--internal", "--provider", f.url())
	if code != 0 || !strings.Contains(out, "Internal (this host)") || strings.Contains(out, "External") || !strings.Contains(out, "127.0.0.1/8") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
	if f.hits.Load() != 0 {
		t.Fatal("--internal contacted a provider")
	}
}

// The default list is data: printed and checked, never contacted.
func TestMyipListProviders(t *testing.T) {
	out, _, code := runCLI(t, "myip", "--list-providers")
	if code != 0 || out != strings.Join(ipinfo.DefaultProviderSpecs, "\n")+"\n" {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.HasPrefix(out, "https://ipecho.net/plain\n") {
		t.Fatalf("ipecho.net must come first:\n%s", out)
	}
	for _, want := range []string{"icanhazip.com", "ifconfig.me/ip", "api.ipify.org", "checkip.amazonaws.com", "dns:myip.opendns.com@resolver1.opendns.com", "dns:o-o.myaddr.l.google.com/TXT@ns1.google.com", "dns:whoami.cloudflare/CH/TXT@1.1.1.1"} {
		if !strings.Contains(out, want) {
			t.Errorf("default list lacks %s", want)
		}
	}
	out, _, code = runCLI(t, "myip", "--list-providers", "--json")
	var doc struct {
		Type      string `json:"type"`
		Default   bool   `json:"default"`
		Providers []struct {
			Spec   string `json:"spec"`
			Method string `json:"method"`
		} `json:"providers"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.Type != "providers" || !doc.Default || len(doc.Providers) != len(ipinfo.DefaultProviderSpecs) || doc.Providers[5].Method != "dns" {
		t.Fatalf("json list: %s", out)
	}
	// With --provider the list in effect is printed.
	out, _, _ = runCLI(t, "myip", "--list-providers", "--provider", "http://127.0.0.1:9/ip", "--provider", "dns:whoami.cloudflare/CH/TXT@127.0.0.1:5353,[::1]:5353")
	if out != "http://127.0.0.1:9/ip\ndns:whoami.cloudflare/CH/TXT@127.0.0.1:5353,[::1]:5353\n" {
		t.Fatalf("list with --provider: %q", out)
	}
}

func TestMyipProviderFromEnv(t *testing.T) {
	a, b := myipNewFake(t, "203.0.113.7\n"), myipNewFake(t, "203.0.113.7\n")
	t.Setenv("NETTOOL_MYIP_PROVIDER", a.url()+" "+b.url())
	t.Setenv("NETTOOL_MYIP_ALLOW_DOCUMENTATION", "true")
	out, errs, code := runCLI(t, "myip", "--short", "-4")
	if code != 0 || out != "203.0.113.7\n" || a.hits.Load() != 1 || b.hits.Load() != 1 {
		t.Fatalf("exit %d out %q err %q hits %d %d", code, out, errs, a.hits.Load(), b.hits.Load())
	}
}

func TestMyipDemoStep(t *testing.T) {
	var out, errb strings.Builder
	e := &appEnv{ctx: t.Context(), stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	d := &demo{e: e, out: &out, extra: []string{"--no-color"}}
	if err := myipDemo(t.Context(), d); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errb.String())
	}
	got := out.String()
	for _, want := range []string{"STAND-INS", "$ nettool myip -4 -v --provider http://127.0.0.1:", "2 of 2 providers agree", "behind NAT", "\n203.0.113.7\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
}

// Ctrl-C while a provider stalls: nettool stops at once, prints what it has
// and exits 130.
func TestMyipInterrupt(t *testing.T) {
	bin := nettoolBinary(t)
	arrived := make(chan struct{}, 1)
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer stall.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "myip", "-4", "-v", "--external", "--provider", stall.URL+"/ip", "--timeout", "1h")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-ctx.Done():
		t.Fatal("the provider was never asked")
	}
	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want 130; stdout %q stderr %q", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "canceled  ") || !strings.Contains(out.String(), "interrupted") {
		t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
	}
}

// -6 against providers on ::1: the dial goes over IPv6 and the IPv6 answer
// stands.
func TestMyipIPv6(t *testing.T) {
	var fakes []string
	for i := 0; i < 2; i++ {
		ln, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			t.Skipf("NOT RUN: no ::1 here: %v", err)
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("2001:db8::7\n"))
		}))
		srv.Listener.Close()
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)
		fakes = append(fakes, "--provider", srv.URL+"/ip")
	}
	out, errs, code := runCLI(t, append([]string{"myip", "-6", "--short", "--allow-documentation"}, fakes...)...)
	if code != 0 || out != "2001:db8::7\n" {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
	out, _, code = runCLI(t, append([]string{"myip", "-4", "--short", "--allow-documentation", "-v"}, fakes...)...)
	if code != 1 || out != "" {
		t.Fatalf("-4 against ::1 providers: exit %d stdout %q", code, out)
	}
}

func TestMyipDuplicateProviderWarns(t *testing.T) {
	a := myipNewFake(t, "203.0.113.7\n")
	out, errs, code := runCLI(t, "myip", "-4", "--short", "--provider", a.url(), "--provider", a.url(), "--allow-documentation")
	if code != 0 || out != "203.0.113.7\n" || !strings.Contains(errs, "is given twice; its answers count twice towards the quorum") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
}
