package exporter

import (
	"strings"

	"github.com/nettool/nettool/httpget"
	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/ping"
	"github.com/nettool/nettool/resolve"
)

// checkTarget says what is wrong with a scrape's target for a prober, or
// "" when it can be probed. The parsers are the commands' own.
func checkTarget(prober, target string, m *Module) string {
	var err error
	switch prober {
	case "http":
		t := target
		if l := strings.ToLower(t); !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
			t = "http://" + t
		}
		_, err = httpget.ParseTarget(t)
	case "tcp":
		var hp probe.HostPort
		hp, err = probe.ParseHostPort(target, 0)
		if err == nil && hp.Port == 0 {
			return "want host:port"
		}
	case "icmp", "trace":
		_, err = ping.ParseHost(target, ping.FamilyAny)
	case "dns":
		if m.DNS.Server != "" {
			if target != "." {
				err = resolve.CheckName(strings.TrimSuffix(target, "."))
			}
		} else {
			_, err = resolve.ParseServer(target)
		}
	case "myip":
		switch strings.ToLower(target) {
		case "ip4", "ipv4", "4", "ip6", "ipv6", "6":
		default:
			return "want the family: ip4 or ip6"
		}
	}
	if err != nil {
		return err.Error()
	}
	return ""
}
