package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe/probetest"
)

// The NAT test builds the tutorial's picture out of network namespaces:
//
//	client 192.168.3.14/24 --- 192.168.3.1 router 203.0.113.7 --- 203.0.113.80 provider
//	                                 (masquerade)
//
// The provider namespace runs `nettool serve http` (its /ip answers the
// address it sees, ipecho-style) and this test binary as a small DNS
// provider that does the same; nettool runs in the client namespace and must
// report internal 192.168.3.14, external 203.0.113.7 and "behind NAT".

const (
	myipNATClient   = "192.168.3.14"
	myipNATRouterIn = "192.168.3.1"
	myipNATPublic   = "203.0.113.7"
	myipNATProvider = "203.0.113.80"
	myipNATHelper   = "NETTOOL_MYIP_NAT_HELPER"
)

// TestMyipNATHelperProvider is not a test: it is the DNS provider process
// the NAT test starts inside the provider namespace (it does nothing
// otherwise). It answers queries for any name with the client address it
// sees, prints "ready" and serves until stdin closes.
func TestMyipNATHelperProvider(t *testing.T) {
	if os.Getenv(myipNATHelper) != "1" {
		t.Skip("helper process for TestMyipNAT")
	}
	pc, err := net.ListenPacket("udp4", myipNATProvider+":5353")
	if err != nil {
		t.Fatal(err)
	}
	ds := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		if ap, err := netip.ParseAddrPort(w.RemoteAddr().String()); err == nil {
			rr, _ := dns.NewRR(q.Question[0].Name + " 0 IN A " + ap.Addr().Unmap().String())
			m.Answer = append(m.Answer, rr)
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	ds.NotifyStartedFunc = func() { close(started) }
	go func() { _ = ds.ActivateAndServe() }()
	<-started
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = ds.Shutdown()
}

type myipNetns struct {
	t    *testing.T
	ip   string
	name map[string]string
}

// run runs `ip ARGS...` and fails the test with its output on error.
func (n *myipNetns) run(args ...string) string {
	n.t.Helper()
	out, err := exec.Command(n.ip, args...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// in runs ARGS in namespace ns.
func (n *myipNetns) in(ns string, args ...string) string {
	n.t.Helper()
	return n.run(append([]string{"netns", "exec", n.name[ns]}, args...)...)
}

func TestMyipNAT(t *testing.T) {
	probetest.RequireRoot(t, "network namespaces for the NAT test")
	ipPath := probetest.LookPeer(t, "ip")
	nftPath := probetest.LookPeer(t, "nft")
	bin := nettoolBinary(t)

	suffix := fmt.Sprintf("%d-%06x", os.Getpid(), rand.IntN(1<<24))
	n := &myipNetns{t: t, ip: ipPath, name: map[string]string{
		"client":   "nt-myip-c-" + suffix,
		"router":   "nt-myip-r-" + suffix,
		"provider": "nt-myip-p-" + suffix,
	}}
	for _, role := range []string{"client", "router", "provider"} {
		name := n.name[role]
		if out, err := exec.Command(ipPath, "netns", "add", name).CombinedOutput(); err != nil {
			probetest.Unavailable(t, fmt.Sprintf("cannot create network namespace %s: %v %s", name, err, out))
		}
		// Deleting a namespace removes its veth ends too; registered right
		// after creation so a failure anywhere below still tears it down.
		t.Cleanup(func() { _ = exec.Command(ipPath, "netns", "del", name).Run() })
	}
	c, r, p := n.name["client"], n.name["router"], n.name["provider"]
	// Links are created straight inside the namespaces: no name is ever
	// taken in the host namespace.
	n.run("link", "add", "vc", "netns", c, "type", "veth", "peer", "name", "vrc", "netns", r)
	n.run("link", "add", "vrp", "netns", r, "type", "veth", "peer", "name", "vp", "netns", p)
	for role, links := range map[string][]string{"client": {"lo", "vc"}, "router": {"lo", "vrc", "vrp"}, "provider": {"lo", "vp"}} {
		// No IPv6 inside: the client's only traffic is what nettool sends.
		n.in(role, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "-w", "net.ipv6.conf.default.disable_ipv6=1")
		for _, l := range links {
			n.run("-n", n.name[role], "link", "set", l, "up")
		}
	}
	n.run("-n", c, "addr", "add", myipNATClient+"/24", "dev", "vc")
	n.run("-n", c, "route", "add", "default", "via", myipNATRouterIn)
	n.run("-n", r, "addr", "add", myipNATRouterIn+"/24", "dev", "vrc")
	n.run("-n", r, "addr", "add", myipNATPublic+"/24", "dev", "vrp")
	n.run("-n", p, "addr", "add", myipNATProvider+"/24", "dev", "vp")
	n.in("router", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	n.in("router", nftPath, "add table ip nettool_nat; add chain ip nettool_nat post { type nat hook postrouting priority srcnat; }; add rule ip nettool_nat post oifname vrp masquerade")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The HTTP provider: nettool serve http, whose /ip is the client address.
	web := exec.CommandContext(ctx, ipPath, "netns", "exec", p, bin, "serve", "http", myipNATProvider+":8000")
	webOut, err := web.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var webErr strings.Builder
	web.Stderr = &webErr
	if err := web.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = web.Process.Signal(os.Interrupt)
		_ = web.Wait()
	}()
	if line, err := bufio.NewReader(webOut).ReadString('\n'); err != nil || !strings.Contains(line, "http://"+myipNATProvider+":8000") {
		t.Fatalf("nettool serve http did not start: %q %v %s", line, err, webErr.String())
	}

	// The DNS provider: this test binary in helper mode.
	helper := exec.CommandContext(ctx, ipPath, "netns", "exec", p, os.Args[0], "-test.run=^TestMyipNATHelperProvider$", "-test.count=1", "-test.v")
	helper.Env = append(os.Environ(), myipNATHelper+"=1")
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var helperErr strings.Builder
	helper.Stderr = &helperErr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = helper.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = helper.Process.Kill()
			<-done
		}
	}()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			if sc.Text() == "ready" && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	if !<-ready {
		t.Fatalf("the provider helper did not start: %s", helperErr.String())
	}

	nettool := func(ns string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, ipPath, append([]string{"netns", "exec", n.name[ns], bin}, args...)...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), code
	}
	providers := []string{
		"--provider", "http://" + myipNATProvider + ":8000/ip",
		"--provider", "dns:myip.test@" + myipNATProvider + ":5353",
		"--allow-documentation", "--no-proxy", "--timeout", "20s",
	}

	t.Run("behind NAT, text", func(t *testing.T) {
		out, errs, code := nettool("client", append([]string{"myip"}, providers...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
		for _, want := range []string{
			"IPv4  " + myipNATPublic,
			"2 of 2 providers agree",
			"outbound IPv4  " + myipNATClient + " (vc, private)",
			myipNATClient + "/24",
			"behind NAT: the world sees " + myipNATPublic + ", which is on no interface here; this host sends from " + myipNATClient,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("behind NAT, json", func(t *testing.T) {
		out, errs, code := nettool("client", append([]string{"myip", "-4", "--json"}, providers...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
		var rep myipReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.External) != 1 || rep.External[0].Address != myipNATPublic || rep.External[0].Agreeing != 2 {
			t.Fatalf("external %+v", rep.External)
		}
		if rep.Internal == nil || len(rep.Internal.Outbound) != 1 || rep.Internal.Outbound[0].Address != myipNATClient || rep.Internal.Outbound[0].Interface != "vc" {
			t.Fatalf("internal %+v", rep.Internal)
		}
		if len(rep.NAT) != 1 || !rep.NAT[0].BehindNAT || rep.NAT[0].External != myipNATPublic || rep.NAT[0].Outbound != myipNATClient {
			t.Fatalf("nat %+v", rep.NAT)
		}
		for _, a := range rep.External[0].Answers {
			if !strings.HasPrefix(a.Local, myipNATClient+":") || !strings.HasPrefix(a.Server, myipNATProvider+":") {
				t.Errorf("answer %+v: want a connection from %s to %s", a, myipNATClient, myipNATProvider)
			}
		}
	})

	t.Run("the router itself is not behind NAT", func(t *testing.T) {
		out, errs, code := nettool("router", append([]string{"myip", "-4", "--external"}, providers...)...)
		if code != 0 || !strings.Contains(out, "no NAT: "+myipNATPublic+" is on vrp") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
	})

	t.Run("internal sends no packet", func(t *testing.T) {
		tx := func() string {
			return strings.TrimSpace(n.in("client", "cat", "/sys/class/net/vc/statistics/tx_packets"))
		}
		before := tx()
		out, errs, code := nettool("client", "myip", "--internal", "-4")
		if code != 0 || !strings.Contains(out, "outbound IPv4  "+myipNATClient) {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
		if after := tx(); after != before {
			t.Fatalf("--internal sent packets on vc: tx_packets %s -> %s", before, after)
		}
	})
}
