package exporter

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/nettool/nettool/ipinfo"
)

// state is what the exporter keeps between scrapes.
type state struct {
	mu   sync.Mutex
	myip map[string]*myipState // module name + family
}

type myipState struct {
	addr    netip.Addr
	changes float64
}

func (st *state) sawAddr(key string, a netip.Addr) float64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.myip == nil {
		st.myip = map[string]*myipState{}
	}
	ms := st.myip[key]
	if ms == nil {
		if len(st.myip) >= 1024 {
			return 0 // a bounded table: targets come from scrapes
		}
		ms = &myipState{addr: a}
		st.myip[key] = ms
	}
	if ms.addr != a {
		ms.addr = a
		ms.changes++
	}
	return ms.changes
}

// ProbeMyIP asks the module's external-address providers with
// ipinfo.Discover, the consensus `nettool myip` runs. The target names the
// family: ip4 (also "4", "ipv4") or ip6.
func ProbeMyIP(ctx context.Context, target string, m *Module, s *Scrape) bool {
	fam := ipinfo.IPv4
	switch strings.ToLower(target) {
	case "ip4", "ipv4", "4", "":
	case "ip6", "ipv6", "6":
		fam = ipinfo.IPv6
	default:
		s.Log.Error("The target of a myip module is the family: ip4 or ip6", "target", target)
		return false
	}
	var providers []ipinfo.Provider
	specs := m.MyIP.Providers
	if len(specs) == 0 {
		providers = ipinfo.DefaultProviders()
	}
	for _, sp := range specs {
		p, err := ipinfo.ParseProvider(sp)
		if err != nil {
			s.Log.Error("Bad provider", "provider", sp, "err", err)
			return false
		}
		providers = append(providers, p)
	}
	roots := m.roots
	o := ipinfo.Options{
		Providers: providers, Families: []ipinfo.Family{fam}, Quorum: m.MyIP.Quorum,
		Timeout: remaining(ctx, ipinfo.DefaultTimeout), UserAgent: "nettool-exporter", NoProxy: true,
		Validate: ipinfo.ValidateOptions{AllowDocumentation: m.MyIP.AllowDocumentation}, RootCAs: roots,
	}
	start := time.Now()
	out := ipinfo.Discover(ctx, o)
	s.Reg.Set("probe_myip_duration_seconds", "How long the providers took to reach a verdict", time.Since(start).Seconds())
	if len(out) == 0 {
		return false
	}
	x := out[0]
	s.Reg.Set("probe_myip_providers_asked", "Providers asked for the external address", float64(x.Asked))
	s.Reg.Set("probe_myip_valid_answers", "Providers that answered with a valid public address", float64(x.Valid))
	s.Reg.Set("probe_myip_agreeing_answers", "Providers that agree with the consensus address", float64(x.Agreeing))
	s.Reg.Set("probe_myip_quorum", "Agreeing answers needed for a consensus", float64(x.Quorum))
	for _, a := range x.Answers {
		s.Log.Debug("Provider answer", "provider", a.Provider, "ok", a.OK, "address", a.Address, "failure", a.Failure, "err", a.Error)
	}
	famName := "ip4"
	if fam == ipinfo.IPv6 {
		famName = "ip6"
	}
	key := m.name + "\x00" + famName
	if !x.OK || !x.Addr().IsValid() {
		s.Log.Error("No consensus on the external address", "failure", x.Failure, "err", x.Error)
		s.Reg.Counter("probe_myip_changes_total", "Times the consensus address changed since the exporter started", s.state.changes(key))
		return false
	}
	changes := s.state.sawAddr(key, x.Addr())
	s.Reg.Set("probe_myip_info", "The external address the providers agree on", 1, Label{"address", x.Address}, Label{"family", famName})
	s.Reg.Set("probe_ip_addr_hash", helpAddrHash, ipHash(x.Addr()))
	s.Reg.Counter("probe_myip_changes_total", "Times the consensus address changed since the exporter started", changes)
	return true
}

func (st *state) changes(key string) float64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	if ms := st.myip[key]; ms != nil {
		return ms.changes
	}
	return 0
}
