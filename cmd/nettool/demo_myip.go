package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/miekg/dns"
)

// myipDemoAddress is what the demo's stand-in providers claim: a
// documentation address (RFC 5737), since on loopback a real provider would
// only ever see 127.0.0.1.
const myipDemoAddress = "203.0.113.7"

func init() {
	registerDemo(600, "your addresses, inside and out (myip)", myipDemo)
}

func myipDemo(ctx context.Context, d *demo) error {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, myipDemoAddress)
	})}
	httpDone := make(chan struct{})
	go func() { _ = hs.Serve(ln); close(httpDone) }()
	defer func() { hs.Close(); <-httpDone }()

	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	started := make(chan struct{})
	ds := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) }, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		if q.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR(q.Question[0].Name + " 0 IN A " + myipDemoAddress)
			m.Answer = append(m.Answer, rr)
		}
		_ = w.WriteMsg(m)
	})}
	dnsDone := make(chan struct{})
	go func() { _ = ds.ActivateAndServe(); close(dnsDone) }()
	<-started
	defer func() { _ = ds.Shutdown(); <-dnsDone }()

	httpProvider := "http://" + ln.Addr().String() + "/ip"
	dnsProvider := "dns:myip.demo@" + pc.LocalAddr().String()
	d.say("Inside, this host has its own addresses: 127.0.0.1 (loopback, this host only) and")
	d.say("usually a private one such as 192.168.x.x. Outside, the internet sees the single public")
	d.say("address of your router's NAT: what `curl ipecho.net/plain` prints. nettool asks several")
	d.say("providers at once and believes an address only when two of them agree.")
	d.say("Everything here stays on loopback: the two providers below are STAND-INS started by the")
	d.say("demo, one over HTTP and one over DNS, told to claim %s (a documentation address;", myipDemoAddress)
	d.say("--allow-documentation lets it count). Real ones would see your router's public address.")
	if err := d.expect(ctx, 0, "myip", "-4", "-v", "--provider", httpProvider, "--provider", dnsProvider, "--allow-documentation"); err != nil {
		return err
	}
	d.say("%s is on none of the interfaces above, so this host is behind NAT: it sends from its", myipDemoAddress)
	d.say("outbound address and the router rewrites it. For scripts, --short prints only the address:")
	return d.expect(ctx, 0, "myip", "-4", "--short", "--provider", httpProvider, "--provider", dnsProvider, "--allow-documentation")
}
