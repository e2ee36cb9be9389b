package ipinfo

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/probetest"
)

// silentPair binds UDP and TCP on one loopback port: UDP answers every query
// with an empty truncated reply (so the asker retries over TCP), and TCP
// accepts and never says a word; accepted is signalled on its first
// connection.
func silentPair(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		if pc, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp4", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if try == 10 {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	accepted := make(chan struct{}, 1)
	stop := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			r := new(dns.Msg)
			r.SetReply(q)
			r.Truncated = true
			if b, err := r.Pack(); err == nil {
				pc.WriteTo(b, from)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case accepted <- struct{}{}:
			default:
			}
			wg.Add(1)
			go func() { defer wg.Done(); <-stop; c.Close() }()
		}
	}()
	t.Cleanup(func() { pc.Close(); ln.Close(); close(stop); wg.Wait() })
	return pc.LocalAddr().String(), accepted
}

// The TCP retry after a truncated UDP reply, and an https provider whose
// server never starts the TLS handshake, both end at the timeout (short and
// explicit here) as a timeout, not a hang or another failure.
func TestDiscoverSilentTCPFallbackAndTLS(t *testing.T) {
	dnsAddr, accepted := silentPair(t)
	silent := probetest.ServeTCP(t, probetest.Silent)
	x := discover4(t, 1, 200*time.Millisecond, "dns:myip.test@"+dnsAddr, "https://"+silent+"/ip")
	if x.OK || len(x.Answers) != 2 {
		t.Fatalf("%+v", x)
	}
	for _, a := range x.Answers {
		if a.OK || a.Failure != probe.FailTimeout {
			t.Errorf("%s: %+v", a.Provider, a)
		}
	}
	select { // the connection is in the accept queue if it was made
	case <-accepted:
	case <-time.After(60 * time.Second):
		t.Error("the truncated UDP reply was not retried over TCP")
	}
}
