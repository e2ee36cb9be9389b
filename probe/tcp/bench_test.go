package tcp

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/nettool/nettool/probe"
)

// BenchmarkScanLoopback measures connect-scan throughput on 127.0.0.1: one
// op is one port (a listener's port plus closed ports around it).
func BenchmarkScanLoopback(b *testing.B) {
	ports, _ := probe.ParsePortList("40000-40999")
	lo := netip.MustParseAddr("127.0.0.1")
	b.ResetTimer()
	for done := 0; done < b.N; done += ports.Len() {
		_, err := Scan(context.Background(), ScanOptions{Hosts: []ScanHost{{Addr: lo}}, Ports: ports, Concurrency: 256, Timeout: 5 * time.Second}, func(PortResult) {})
		if err != nil {
			b.Fatal(err)
		}
	}
}
