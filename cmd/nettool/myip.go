package main

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/ipinfo"
	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
)

// myipProviderList is the repeatable --provider flag. urfave's StringSlice
// splits on commas, which a DNS provider with two servers contains, so each
// --provider is taken whole; NETTOOL_MYIP_PROVIDER holds specs separated by
// white space.
type myipProviderList struct{ specs []string }

func (l *myipProviderList) Set(s string) error {
	// A spec never holds white space, so NETTOOL_MYIP_PROVIDER="A B" is two.
	f := strings.Fields(s)
	if len(f) == 0 {
		f = []string{s}
	}
	l.specs = append(l.specs, f...)
	return nil
}

func (l *myipProviderList) String() string { return strings.Join(l.specs, " ") }

const myipDescription = `Shows both sides of your addresses:
  external  the address the world sees, asked of several providers at once;
            it stands only when a quorum of them agrees on a public address
  internal  the source address the kernel picks for internet traffic (a UDP
            connect: no packet is sent) and every interface with its
            addresses, state, MTU and class
and says when you are behind NAT (the external address is on no interface).

Providers (--provider, repeatable, replaces the default list):
  https://HOST/PATH, http://HOST:PORT/PATH    the body is the address, as text
  dns:NAME[/CLASS][/TYPE]@SERVER[,SERVER]     a DNS query answered with your address
      TYPE A, AAAA (default: by family) or TXT; CLASS IN (default) or CH;
      SERVER 1.2.3.4, 1.2.3.4:5353, [::1]:5353 or a name
      e.g. dns:myip.opendns.com@resolver1.opendns.com
           dns:whoami.cloudflare/CH/TXT@1.1.1.1
An answer counts only if its body (at most 512 bytes, redirects not followed)
is one public address of the asked family: pages, private, loopback,
link-local, CGNAT and documentation addresses are rejected with a reason.
Each family votes apart. Exit 0 when the quorum agrees (for one family at
least, unless -4 or -6 asks for one), 1 when no quorum, 2 for a bad provider.

Privacy: every provider asked learns your address. --internal asks none.`

func init() {
	registerCommand(500, func(e *appEnv) *cli.Command {
		providers := &myipProviderList{}
		return &cli.Command{
			Name:        "myip",
			Usage:       "your internal and external addresses, ipecho-style, agreed by a quorum of providers",
			UsageText:   "nettool myip [--external|--internal|--short] [-4|-6] [--provider SPEC]... [--quorum N]",
			Description: myipDescription,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "external", Usage: "only the external address (ask the providers)"},
				&cli.BoolFlag{Name: "internal", Usage: "only the internal picture (no provider is contacted)"},
				&cli.BoolFlag{Name: "short", Usage: "only the external addresses, one per line, for IP=$(nettool myip --short)"},
				&cli.BoolFlag{Name: "ipv4", Aliases: []string{"4"}, Usage: "IPv4 only: dials forced to IPv4, answers must be IPv4"},
				&cli.BoolFlag{Name: "ipv6", Aliases: []string{"6"}, Usage: "IPv6 only: dials forced to IPv6, answers must be IPv6"},
				&cli.GenericFlag{Name: "provider", Value: providers, Usage: "provider `SPEC` (repeatable; replaces the defaults, see --list-providers)"},
				&cli.IntFlag{Name: "quorum", Usage: "`N` agreeing valid answers needed", DefaultText: "2 with two providers or more, else 1"},
				&cli.DurationFlag{Name: "timeout", Value: ipinfo.DefaultTimeout, Usage: "`DURATION`: the deadline of each provider call"},
				&cli.BoolFlag{Name: "list-providers", Usage: "print the providers that would be asked, and exit"},
				&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show every provider's answer, time or error"},
				&cli.BoolFlag{Name: "allow-documentation", Usage: "accept documentation addresses (203.0.113.0/24, 2001:db8::/32, ...) as public: for tests and demos with stand-in providers"},
				&cli.BoolFlag{Name: "no-proxy", Usage: "ignore HTTP_PROXY/HTTPS_PROXY (through a proxy, providers see the proxy's address)"},
			},
			Action: func(c *cli.Context) error { return myipRun(e, c, providers) },
		}
	})
}

// myipReport is the JSON document of a run.
type myipReport struct {
	probe.Meta
	External []ipinfo.External `json:"external,omitempty"`
	Internal *myipInternal     `json:"internal,omitempty"`
	NAT      []myipNAT         `json:"nat,omitempty"`
}

type myipInternal struct {
	Type       string             `json:"type"` // "internal"
	Outbound   []ipinfo.Outbound  `json:"outbound"`
	Interfaces []ipinfo.Interface `json:"interfaces"`
}

// myipNAT is the NAT verdict for one family with an agreed external address.
type myipNAT struct {
	Type      string `json:"type"` // "nat"
	Family    string `json:"family"`
	BehindNAT bool   `json:"behind_nat"`
	External  string `json:"external"`
	Outbound  string `json:"outbound,omitempty"`
	Interface string `json:"interface,omitempty"` // the interface holding the external address, when not behind NAT
	Note      string `json:"note"`
}

type myipProviderInfo struct {
	Type    string        `json:"type"` // "provider"
	Spec    string        `json:"spec"`
	Method  ipinfo.Method `json:"method"`
	Default bool          `json:"default"`
}

func myipRun(e *appEnv, c *cli.Context, list *myipProviderList) error {
	p, err := e.printerFor(c)
	if err != nil {
		return err
	}
	if c.NArg() > 0 {
		return usageErrorf("no arguments expected (providers go in --provider)")
	}
	specs := list.specs
	fromDefault := len(specs) == 0
	if fromDefault {
		specs = ipinfo.DefaultProviderSpecs
	}
	providers := make([]ipinfo.Provider, 0, len(specs))
	seen := map[string]bool{}
	for _, s := range specs {
		pr, err := ipinfo.ParseProvider(s)
		if err != nil {
			return err
		}
		if seen[pr.Spec] {
			p.Warn("nettool: myip: warning: %s is given twice; its answers count twice towards the quorum", pr.Spec)
		}
		seen[pr.Spec] = true
		providers = append(providers, pr)
	}
	if c.Bool("list-providers") {
		myipListProviders(p, providers, fromDefault)
		return nil
	}

	wantExt, wantInt := true, true
	switch {
	case c.Bool("short"):
		if c.Bool("internal") {
			return usageErrorf("--short prints only external addresses; it cannot go with --internal")
		}
		wantInt = false
	case c.Bool("external") && !c.Bool("internal"):
		wantInt = false
	case c.Bool("internal") && !c.Bool("external"):
		wantExt = false
	}
	families := []ipinfo.Family{ipinfo.IPv4, ipinfo.IPv6}
	forced := false
	switch {
	case c.Bool("ipv4") && !c.Bool("ipv6"):
		families, forced = []ipinfo.Family{ipinfo.IPv4}, true
	case c.Bool("ipv6") && !c.Bool("ipv4"):
		families, forced = []ipinfo.Family{ipinfo.IPv6}, true
	}
	quorum := c.Int("quorum")
	if c.IsSet("quorum") && (quorum < 1 || quorum > len(providers)) {
		return usageErrorf("--quorum %d: want 1 to %d (the number of providers)", quorum, len(providers))
	}
	timeout := c.Duration("timeout")
	if timeout <= 0 {
		return usageErrorf("--timeout must be positive")
	}

	rep := myipReport{Meta: probe.Meta{Type: "myip", Start: time.Now()}}
	var famFilter ipinfo.Family
	if forced {
		famFilter = families[0]
	}
	ifs, ifErr := ipinfo.Interfaces(famFilter)
	if ifErr != nil && wantInt {
		return probe.Localf("%v", ifErr)
	}

	var extErr error
	if wantExt {
		opts := ipinfo.Options{
			Providers: providers,
			Families:  families,
			Quorum:    quorum,
			Timeout:   timeout,
			UserAgent: "nettool/" + versionString(),
			NoProxy:   c.Bool("no-proxy"),
			Validate:  ipinfo.ValidateOptions{AllowDocumentation: c.Bool("allow-documentation")},
			OnAnswer:  func(a ipinfo.Answer) { p.Stream(a) },
		}
		if !c.Bool("short") || !p.IsText() {
			p.Info("asking %s over %s, quorum %d, timeout %s", probe.Count(len(providers), "provider", "providers"), myipFamilyNames(families), myipQuorum(quorum, len(providers)), timeout)
		}
		rep.External = ipinfo.Discover(e.ctx, opts)
		extErr = myipExitFor(rep.External, forced)
	}
	var outbound []ipinfo.Outbound
	if wantInt || wantExt {
		for _, f := range families {
			outbound = append(outbound, ipinfo.OutboundSource(e.ctx, f, netip.AddrPort{}, ifs))
		}
	}
	if wantInt {
		rep.Internal = &myipInternal{Type: "internal", Outbound: outbound, Interfaces: ifs}
	}
	if wantExt {
		rep.NAT = myipNATVerdicts(rep.External, outbound, ifs)
	}
	rep.ElapsedMS = probe.Millis(time.Since(rep.Start))
	rep.OK = extErr == nil
	if extErr != nil {
		rep.Failure = probe.FailNoConsensus
		rep.Error = myipFailureLine(rep.External)
		if e.ctx.Err() != nil {
			rep.Failure = probe.FailCanceled
		}
	}

	p.Doc(rep)
	if p.IsText() {
		if c.Bool("short") {
			for _, x := range rep.External {
				if x.OK {
					p.Textf("%s\n", x.Address)
				}
			}
		} else {
			myipText(p, rep, c.Bool("verbose"))
		}
	}
	if extErr != nil {
		if e.ctx.Err() != nil {
			return errInterrupted
		}
		for _, x := range rep.External {
			if !x.OK && (forced || !myipAnyOK(rep.External)) {
				p.Warn("nettool: myip: %s: %s", ipinfo.Family(myipFam(x.Family)), x.Error)
			}
		}
		return errFailed
	}
	return nil
}

func myipFam(key string) int {
	if key == "ipv6" {
		return 6
	}
	return 4
}

func myipAnyOK(ext []ipinfo.External) bool {
	for _, x := range ext {
		if x.OK {
			return true
		}
	}
	return false
}

// myipExitFor applies the exit rule: with -4/-6 that family must agree;
// otherwise one family agreeing is enough (a host without IPv6 is normal).
func myipExitFor(ext []ipinfo.External, forced bool) error {
	if forced {
		for _, x := range ext {
			if !x.OK {
				return errFailed
			}
		}
		return nil
	}
	if myipAnyOK(ext) {
		return nil
	}
	return errFailed
}

func myipFailureLine(ext []ipinfo.External) string {
	var parts []string
	for _, x := range ext {
		if !x.OK {
			parts = append(parts, ipinfo.Family(myipFam(x.Family)).String()+": "+x.Error)
		}
	}
	return strings.Join(parts, "; ")
}

func myipQuorum(q, n int) int {
	if q > 0 {
		return q
	}
	return ipinfo.DefaultQuorum(n)
}

func myipFamilyNames(fs []ipinfo.Family) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.String()
	}
	return strings.Join(names, " and ")
}

// myipNATVerdicts says, per family with an agreed address, whether that
// address is on one of this host's interfaces.
func myipNATVerdicts(ext []ipinfo.External, outbound []ipinfo.Outbound, ifs []ipinfo.Interface) []myipNAT {
	var out []myipNAT
	for _, x := range ext {
		if !x.OK {
			continue
		}
		n := myipNAT{Type: "nat", Family: x.Family, External: x.Address}
		for _, o := range outbound {
			if o.Family == x.Family && o.OK {
				n.Outbound = o.Address
			}
		}
		if name, ok := ipinfo.FindAddr(ifs, x.Addr()); ok {
			n.Interface = name
			n.Note = fmt.Sprintf("no NAT: %s is on %s", x.Address, name)
		} else {
			n.BehindNAT = true
			n.Note = fmt.Sprintf("behind NAT: the world sees %s, which is on no interface here", x.Address)
			if n.Outbound != "" {
				n.Note += fmt.Sprintf("; this host sends from %s", n.Outbound)
				if ob := netip.MustParseAddr(n.Outbound); ipinfo.Classify(ob) == ipinfo.ClassCGNAT {
					n.Note += " (carrier-grade NAT space: your provider's NAT too)"
				}
			}
		}
		out = append(out, n)
	}
	return out
}

func myipListProviders(p *output.Printer, providers []ipinfo.Provider, isDefault bool) {
	doc := struct {
		Type      string             `json:"type"`
		Default   bool               `json:"default"`
		Providers []myipProviderInfo `json:"providers"`
	}{Type: "providers", Default: isDefault}
	for _, pr := range providers {
		doc.Providers = append(doc.Providers, myipProviderInfo{Type: "provider", Spec: pr.Spec, Method: pr.Method, Default: isDefault})
		p.Textf("%s\n", pr.Spec)
	}
	p.Doc(doc)
}

// myipText is the text view for people.
func myipText(p *output.Printer, rep myipReport, verbose bool) {
	if rep.External != nil {
		p.Textf("%s\n", p.Paint(output.Bold, "External (what providers see)"))
		for _, x := range rep.External {
			fam := ipinfo.Family(myipFam(x.Family)).String()
			rejected := 0
			for _, a := range x.Answers {
				if !a.OK && a.Failure != ipinfo.FailCanceled {
					rejected++
				}
			}
			if x.OK {
				detail := fmt.Sprintf("%d of %d providers agree (quorum %d)", x.Agreeing, x.Asked, x.Quorum)
				if len(x.Dissent) > 0 {
					detail += ", " + p.Paint(output.Yellow, "others said "+strings.Join(x.Dissent, ", "))
				}
				if rejected > 0 && !verbose {
					detail += fmt.Sprintf(", %d failed (-v)", rejected)
				}
				p.Textf("  %-5s %s %s\n", fam, p.Paint(output.Green, fmt.Sprintf("%-39s", x.Address)), detail)
			} else {
				p.Textf("  %-5s %s %s\n", fam, p.Paint(output.Red, fmt.Sprintf("%-39s", "none")), output.Escape(x.Error))
			}
			if verbose {
				rows := [][]string{{"    PROVIDER", "RESULT", "TIME", "DETAIL"}}
				same := map[string]int{} // valid answers per address
				valid := 0
				for _, a := range x.Answers {
					if a.OK {
						same[a.Address]++
						valid++
					}
				}
				for _, a := range x.Answers {
					result, detail := a.Address, ""
					switch {
					case a.OK && a.Agrees:
						detail = "agrees"
					case a.OK && (x.OK || valid > same[a.Address]):
						// Only another valid answer can disagree: a
						// provider that never answered does not.
						detail = "disagrees"
					case a.OK && same[a.Address] > 1:
						detail = "agrees with " + probe.Count(same[a.Address]-1, "other", "others") + ", below the quorum"
					case a.OK:
						detail = "the only valid answer, below the quorum"
					default:
						result = a.Failure
						detail = a.Error
					}
					if a.Server != "" && a.Failure != ipinfo.FailCanceled {
						detail += " (" + a.Server + ")"
					}
					if a.Proxy != "" {
						detail += " via proxy " + a.Proxy
					}
					rows = append(rows, []string{"    " + output.Escape(a.Provider), result, fmt.Sprintf("%.1f ms", a.ElapsedMS), output.Escape(detail)})
				}
				p.Table(rows)
			}
		}
	}
	if rep.Internal != nil {
		p.Textf("%s\n", p.Paint(output.Bold, "Internal (this host)"))
		for _, o := range rep.Internal.Outbound {
			fam := ipinfo.Family(myipFam(o.Family)).String()
			if o.OK {
				where := string(o.Class)
				if o.Interface != "" {
					where = o.Interface + ", " + where
				}
				p.Textf("  outbound %-5s %s (%s)\n", fam, o.Address, where)
			} else {
				p.Textf("  outbound %-5s none: %s\n", fam, o.Error)
			}
		}
		rows := [][]string{{"  INTERFACE", "STATE", "MTU", "ADDRESS", "CLASS"}}
		for _, it := range rep.Internal.Interfaces {
			name, state, mtu := "  "+output.Escape(it.Name), it.State, fmt.Sprint(it.MTU)
			if len(it.Addresses) == 0 {
				rows = append(rows, []string{name, state, mtu, "-", ""})
			}
			for i, a := range it.Addresses {
				if i > 0 {
					name, state, mtu = "", "", ""
				}
				rows = append(rows, []string{name, state, mtu, fmt.Sprintf("%s/%d", a.Address, a.PrefixLen), string(a.Class)})
			}
		}
		p.Table(rows)
	}
	if len(rep.NAT) > 0 {
		p.Textf("%s\n", p.Paint(output.Bold, "NAT"))
		for _, n := range rep.NAT {
			p.Textf("  %-5s %s\n", ipinfo.Family(myipFam(n.Family)).String(), n.Note)
		}
	}
}
