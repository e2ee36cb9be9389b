package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The real binary, a batch against a server that never answers, and SIGINT:
// the summary of what was measured on stderr, exit 130.
func TestResolveBinarySIGINTPrintsSummary(t *testing.T) {
	addr, seen := resolveSilent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nettoolBinary(t), "resolve", "-f", "-", "@"+addr, "--timeout", "1h", "-o", "jsonl")
	cmd.Stdin = strings.NewReader(strings.Repeat("x.example\n", 1000))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-seen // a query is in flight
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, stderr %q", err, errb.String())
	}
	if !strings.Contains(errb.String(), ";; batch: sent ") || !strings.Contains(errb.String(), "(interrupted)") {
		t.Fatalf("stderr %q", errb.String())
	}
	if !strings.Contains(out.String(), `"type":"dns_batch_summary"`) || !strings.Contains(out.String(), `"interrupted":true`) {
		t.Fatalf("stdout %q", out.String())
	}
}

// The query options reach the wire and the reply's EDNS is shown.
func TestResolveQueryOptionsEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var got *dns.Msg
	addr := resolveStartServer(t, func(w dns.ResponseWriter, r *dns.Msg) {
		mu.Lock()
		got = r.Copy()
		mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(r)
		rr, _ := dns.NewRR(r.Question[0].Name + " 60 IN A 192.0.2.1")
		m.Answer = []dns.RR{rr}
		opt := r.IsEdns0()
		m.SetEdns0(1232, opt.Do())
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: "6e73311b5b33316d"}} // "ns1\x1b[31m"
		_ = w.WriteMsg(m)
	})
	out, errs, code := runCLI(t, "resolve", "host.example", "A", "@"+addr, "+dnssec", "+nsid", "+norec", "--subnet", "192.0.2.0/24", "--bufsize", "4096")
	if code != 0 || !strings.Contains(out, `edns=udp:1232,do,nsid:"ns1\027[31m"`) || strings.Contains(out, "\x1b") {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	mu.Lock()
	defer mu.Unlock()
	opt := got.IsEdns0()
	if got.RecursionDesired || opt == nil || !opt.Do() || opt.UDPSize() != 4096 || len(opt.Option) != 2 {
		t.Fatalf("query: %v", got)
	}
}
