package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/cmd/nettool/internal/prefault"
	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/resolve"
)

const (
	resolveCatQuery  = "QUERY"
	resolveCatServer = "SERVER"
	resolveCatBatch  = "BATCH"
)

func init() {
	registerCommand(100, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:      "resolve",
			Aliases:   []string{"dig"},
			Usage:     "look up DNS records, dig-style: nettool resolve NAME... [TYPE...] [CLASS] [@SERVER...] [+short]",
			ArgsUsage: "NAME... [TYPE...] [CLASS] [@SERVER...] [+short] [+tcp] [+dnssec] [+cdflag] [+noadflag] [+nsid] [+norec] ...",
			Description: "Words may come in any order: a word that is exactly a type name (A, mx, TYPE65) is a type,\n" +
				"IN/CH/HS a class, @ADDR a server, +opt a dig-style option, anything else a name.\n" +
				"Default types: A and AAAA (the CNAME chain is shown). Servers: 1.2.3.4, 1.2.3.4:5353, [::1]:53,\n" +
				"host, udp://, tcp://, tls://host[:853] (DoT), https://host/dns-query (DoH). Several servers are\n" +
				"asked at once. Without a server, the servers of /etc/resolv.conf (--resolv-conf) are used with\n" +
				"its search list and ndots. A truncated UDP answer is retried over TCP.\n" +
				"Batch: -f FILE (or -f - for stdin), one NAME [TYPE] per line; results stream as they come,\n" +
				"a summary goes to stderr.\n" +
				"Trace: --trace (+trace) resolves iteratively from the root hints (or from the root servers\n" +
				"@SERVER names), asking every server of every zone; --qmin (+qmin) minimises query names;\n" +
				"--validate checks the DNSSEC chain of trust from the root trust anchor (--trust-anchor FILE),\n" +
				"with --trace or on an ordinary answer. Exit 1 also when the answer is bogus.\n\n" +
				"Exit: 0 every query got NOERROR with data (for the default A+AAAA, either one);\n" +
				"1 NXDOMAIN, NODATA, SERVFAIL, REFUSED or no reply; 2 bad name, type, server or file;\n" +
				"3 no usable DNS server; 130 interrupted.",
			Flags: append([]cli.Flag{
				&cli.StringSliceFlag{Name: "type", Aliases: []string{"t"}, Usage: "record type to ask for (repeatable): A, AAAA, MX, TXT, TYPE65...", Category: resolveCatQuery},
				&cli.StringFlag{Name: "class", Usage: "class: IN, CH, HS or CLASSnnn", Category: resolveCatQuery},
				&cli.StringSliceFlag{Name: "reverse", Aliases: []string{"x"}, Usage: "reverse lookup (PTR) of an IPv4 or IPv6 `ADDR` (repeatable)", Category: resolveCatQuery},
				&cli.StringSliceFlag{Name: "name", Usage: "a `NAME` to look up even if it looks like a type or class (repeatable)", Category: resolveCatQuery},
				&cli.BoolFlag{Name: "short", Usage: "only the answer data, one per line (like dig +short)", Category: categoryOutput},
				&cli.BoolFlag{Name: "dnssec", Usage: "set the DNSSEC OK (DO) bit", Category: resolveCatQuery},
				&cli.BoolFlag{Name: "nsid", Usage: "ask the server for its NSID", Category: resolveCatQuery},
				&cli.BoolFlag{Name: "no-rd", Usage: "clear the recursion desired bit (ask an authoritative server)", Category: resolveCatQuery},
				&cli.StringFlag{Name: "subnet", Usage: "EDNS client subnet `NET`, e.g. 192.0.2.0/24", Category: resolveCatQuery},
				&cli.IntFlag{Name: "bufsize", Value: resolve.DefaultUDPSize, Usage: "EDNS0 UDP payload size", Category: resolveCatQuery},
				&cli.StringSliceFlag{Name: "server", Aliases: []string{"s"}, Usage: "server `ADDR` (repeatable), same forms as @SERVER", Category: resolveCatServer},
				&cli.BoolFlag{Name: "tcp", Usage: "use TCP instead of UDP", Category: resolveCatServer},
				&cli.DurationFlag{Name: "timeout", Value: 2 * time.Second, Usage: "wait this long for each try", Category: resolveCatServer},
				&cli.IntFlag{Name: "retries", Value: 2, Usage: "tries after the first when there is no reply", Category: resolveCatServer},
				&cli.StringFlag{Name: "resolv-conf", EnvVars: []string{"NETTOOL_RESOLV_CONF"}, Value: resolve.DefaultResolvConf, Usage: "resolver configuration `FILE` for the default servers, search list and ndots", Category: resolveCatServer},
				&cli.BoolFlag{Name: "no-search", Usage: "do not apply the resolv.conf search list", Category: resolveCatServer},
				&cli.StringFlag{Name: "cacert", Usage: "trust the CA certificates in `FILE` for tls:// and https:// servers", Category: resolveCatServer},
				&cli.BoolFlag{Name: "insecure", Aliases: []string{"k"}, Usage: "do not verify the certificate of tls:// and https:// servers", Category: resolveCatServer},
				&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "batch: read NAME [TYPE] lines from `FILE` (- for stdin)", Category: resolveCatBatch},
				&cli.IntFlag{Name: "concurrency", Value: 100, Usage: "batch: queries in flight at most", Category: resolveCatBatch},
				&cli.Float64Flag{Name: "rate", Usage: "batch: queries per second at most (0: no limit)", Category: resolveCatBatch},
			}, resolveTraceFlags()...),
			Action: func(c *cli.Context) error { return resolveAction(e, c) },
		}
	})
}

// resolvePlan is the parsed command line.
type resolvePlan struct {
	names       []string // as typed
	reverse     []string // PTR names from -x
	types       []uint16
	defaultType bool // A+AAAA chosen by default
	class       uint16
	servers     []resolve.Server
	conf        *resolve.ResolvConf // when servers come from resolv.conf or +search
	// systemServers: the servers are resolv.conf's, which stand in for one
	// another (one answer is enough), not @servers to compare.
	systemServers bool
	search        bool
	opts          resolve.Options
	short         bool
	file          string
	concurrency   int
	rate          float64
	validations   []any // --validate: one resolveValidationDoc per question and server
}

func resolveAction(e *appEnv, c *cli.Context) error {
	p, err := e.printerFor(c)
	if err != nil {
		return err
	}
	a, err := resolve.ParseArgs(c.Args().Slice())
	if err != nil {
		return err
	}
	if a.Plus.JSON != nil && *a.Plus.JSON && p.Format() == output.Text {
		e.printer = nil
		if err := c.Set("json", "true"); err != nil {
			return err
		}
		if p, err = e.printerFor(c); err != nil {
			return err
		}
	}
	pl, err := resolveBuildPlan(c, a)
	if err != nil {
		return err
	}
	if pl.file != "" {
		return resolveBatch(e, p, pl)
	}
	if tp, err := resolveTracePlan(c, a, pl); err != nil || tp != nil {
		if err != nil {
			return err
		}
		if tp.trace {
			return resolveTrace(e, p, pl, tp)
		}
		return resolveInteractiveValidate(e, p, pl, tp)
	}
	return resolveInteractive(e, p, pl)
}

func resolveBuildPlan(c *cli.Context, a resolve.Args) (*resolvePlan, error) {
	pl := &resolvePlan{names: a.Names, class: a.Class, file: c.String("file"), concurrency: c.Int("concurrency"), rate: c.Float64("rate")}
	for _, n := range c.StringSlice("name") {
		if _, err := resolve.QueryName(n); err != nil {
			return nil, err
		}
		pl.names = append(pl.names, n)
	}
	for _, x := range c.StringSlice("reverse") {
		n, err := resolve.ReverseName(x)
		if err != nil {
			return nil, err
		}
		pl.reverse = append(pl.reverse, n)
	}
	for _, t := range c.StringSlice("type") {
		for _, w := range strings.Split(t, ",") {
			qt, ok := resolve.ParseType(strings.TrimSpace(w))
			if !ok {
				return nil, probe.Usagef("unknown type %q (use a type name such as A, MX, TXT, or TYPE65)", w)
			}
			pl.types = append(pl.types, qt)
		}
	}
	pl.types = append(pl.types, a.Types...)
	if cl := c.String("class"); cl != "" {
		v, ok := resolve.ParseClass(cl)
		if !ok {
			return nil, probe.Usagef("unknown class %q (want IN, CH, HS or CLASSnnn)", cl)
		}
		if pl.class != 0 && pl.class != v {
			return nil, probe.Usagef("two classes given: %s and %s", resolve.ClassString(pl.class), resolve.ClassString(v))
		}
		pl.class = v
	}
	if pl.class == 0 {
		pl.class = dns.ClassINET
	}
	if len(pl.types) == 0 {
		pl.types = []uint16{dns.TypeA, dns.TypeAAAA}
		pl.defaultType = true
	}
	for _, s := range c.StringSlice("server") {
		srv, err := resolve.ParseServer(s)
		if err != nil {
			return nil, err
		}
		pl.servers = append(pl.servers, srv)
	}
	pl.servers = append(pl.servers, a.Servers...)

	o := resolve.Options{
		TCP: c.Bool("tcp"), DNSSEC: c.Bool("dnssec"), NSID: c.Bool("nsid"), NoRD: c.Bool("no-rd"),
		Subnet: c.String("subnet"), Timeout: c.Duration("timeout"), Retries: c.Int("retries"),
	}
	bs := c.Int("bufsize")
	if bs < 512 || bs > 65535 {
		return nil, probe.Usagef("bad --bufsize %d: want 512-65535", bs)
	}
	o.UDPSize = uint16(bs)
	pp := a.Plus
	setb := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setb(&o.TCP, pp.TCP)
	setb(&o.DNSSEC, pp.DNSSEC)
	setb(&o.NSID, pp.NSID)
	setb(&o.NoRD, pp.NoRD)
	setb(&o.CD, pp.CD)
	setb(&o.NoAD, pp.NoAD)
	pl.short = c.Bool("short")
	setb(&pl.short, pp.Short)
	if pp.Timeout > 0 {
		o.Timeout = pp.Timeout
	}
	if pp.Tries > 0 {
		o.Retries = pp.Tries - 1
	}
	if pp.Subnet != "" {
		o.Subnet = pp.Subnet
	}
	if pp.BufSize > 0 {
		o.UDPSize = uint16(pp.BufSize)
	}
	if o.Subnet != "" {
		if err := resolve.CheckSubnet(o.Subnet); err != nil {
			return nil, err
		}
	}
	if o.Timeout <= 0 || o.Timeout > time.Hour {
		return nil, probe.Usagef("bad --timeout %s: want more than 0 and at most 1h", o.Timeout)
	}
	if o.Retries < 0 || o.Retries > 100 {
		return nil, probe.Usagef("bad --retries %d: want 0-100", o.Retries)
	}
	tconf, err := resolveTLSConfig(c)
	if err != nil {
		return nil, err
	}
	o.TLS = tconf
	pl.opts = o

	if pl.file != "" {
		if len(pl.names) > 0 || len(pl.reverse) > 0 {
			return nil, probe.Usagef("give names either on the command line or with -f, not both")
		}
		if c.Int("concurrency") < 1 || c.Int("concurrency") > 65536 {
			return nil, probe.Usagef("bad --concurrency %d: want 1-65536", c.Int("concurrency"))
		}
		if c.Float64("rate") < 0 {
			return nil, probe.Usagef("bad --rate %v: want 0 (no limit) or more", c.Float64("rate"))
		}
	} else if len(pl.names) == 0 && len(pl.reverse) == 0 {
		return nil, probe.Usagef("no name to look up (nettool resolve NAME [TYPE] [@SERVER])")
	}

	// Servers and the search list.
	search := pp.Search != nil && *pp.Search
	// A trace starts from the root hints, not from resolv.conf.
	fromConf := len(pl.servers) == 0 && !resolveTraceWanted(c, a)
	if fromConf || search {
		conf, err := resolveReadConf(c.Context, c.String("resolv-conf"))
		if err != nil {
			return nil, err
		}
		if pp.Ndots >= 0 {
			conf.Ndots = pp.Ndots
		}
		pl.conf = conf
		if fromConf {
			pl.servers = conf.Servers
			pl.systemServers = true
			search = pp.Search == nil || *pp.Search
		}
	}
	pl.search = search && !c.Bool("no-search") && pl.file == ""
	if err := resolveFamily(c, pl, fromConf); err != nil {
		return nil, err
	}
	return pl, nil
}

// resolveFamily applies -4/-6 (dig's): an @SERVER address of the other IP
// version is a usage error, resolv.conf's servers of the other version are
// left out, and host names are looked up in the version asked.
func resolveFamily(c *cli.Context, pl *resolvePlan, fromConf bool) error {
	v4, v6 := c.Bool("ipv4"), c.Bool("ipv6")
	switch {
	case v4 && v6:
		return probe.Usagef("-4 and -6 cannot be used together")
	case v4:
		pl.opts.Family = 4
	case v6:
		pl.opts.Family = 6
	default:
		return nil
	}
	var kept []resolve.Server
	for _, s := range pl.servers {
		host := s.Host
		if s.Transport == resolve.HTTPS {
			if u, err := url.Parse(s.URL); err == nil {
				host = u.Hostname()
			}
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			kept = append(kept, s) // a name: looked up in the family
			continue
		}
		if resolve.CheckFamily(a, pl.opts.Family) != nil {
			if !fromConf {
				fam := map[int]string{4: "IPv4", 6: "IPv6"}[pl.opts.Family]
				return probe.Usagef("@%s is not an %s address, and -%d asks over %s only", host, fam, pl.opts.Family, fam)
			}
			continue
		}
		kept = append(kept, s)
	}
	if fromConf && len(kept) == 0 && len(pl.servers) > 0 {
		return probe.Localf("no DNS server to ask: %s names no IPv%d server (-%d); name one with @SERVER", c.String("resolv-conf"), pl.opts.Family, pl.opts.Family)
	}
	pl.servers = kept
	return nil
}

func resolveReadConf(ctx context.Context, path string) (*resolve.ResolvConf, error) {
	f, err := openInput(ctx, path) // a FIFO ends at Ctrl-C
	if err != nil {
		if ctx.Err() != nil {
			return nil, errInterrupted
		}
		return nil, probe.Localf("no DNS server to ask: cannot read %s (%v); name one with @SERVER or --resolv-conf", path, resolveErrText(err))
	}
	defer f.Close()
	conf := resolve.ParseResolvConf(f)
	if ctx.Err() != nil {
		return nil, errInterrupted
	}
	if len(conf.Servers) == 0 {
		if conf.Truncated {
			return nil, probe.Localf("no DNS server to ask: %s names no usable nameserver in its first 64 KiB; name one with @SERVER", path)
		}
		if len(conf.Skipped) > 0 {
			var why []string
			for _, sk := range conf.Skipped {
				why = append(why, path+":"+output.Escape(sk.String()))
			}
			return nil, probe.Localf("no DNS server to ask: %s names no usable nameserver (%s); name one with @SERVER", path, strings.Join(why, "; "))
		}
		return nil, probe.Localf("no DNS server to ask: %s names no usable nameserver; name one with @SERVER", path)
	}
	return &conf, nil
}

func resolveErrText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

func resolveTLSConfig(c *cli.Context) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.Bool("insecure") {
		conf.InsecureSkipVerify = true
	}
	if f := c.String("cacert"); f != "" {
		pem, err := readFileLimited(c.Context, f, 16<<20)
		if err != nil {
			return nil, inputError(err, "cannot read --cacert %s: %v", f, resolveErrText(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, probe.Usagef("--cacert %s holds no PEM certificate", f)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

func resolveInteractive(e *appEnv, p *output.Printer, pl *resolvePlan) error {
	var jobs []resolve.Job
	type nameTypes struct {
		name  string // as typed
		qname string // as asked (raw UTF-8 labels in IDNA form)
		types []uint16
		def   bool
	}
	var targets []nameTypes
	for _, n := range pl.names {
		q, err := resolve.QueryName(n)
		if err != nil {
			return err
		}
		targets = append(targets, nameTypes{n, q, pl.types, pl.defaultType})
	}
	for _, n := range pl.reverse {
		targets = append(targets, nameTypes{n, n, []uint16{dns.TypePTR}, false})
	}
	// groups decide the exit code: with the default A+AAAA, a name passes
	// on a server when either type has data. Servers named with @ are
	// compared, so each must pass; the servers of resolv.conf stand in for
	// one another as they do for the system resolver, so one answer is
	// enough.
	type group struct{ idx []int }
	var groups []group
	for _, t := range targets {
		cands := []string{dns.Fqdn(t.qname)}
		if pl.search && pl.conf != nil {
			cands = pl.conf.Candidates(t.qname)
		}
		// at[ti][si] is the job asking type ti of server si.
		at := make([][]int, len(t.types))
		for ti, qt := range t.types {
			for _, s := range pl.servers {
				at[ti] = append(at[ti], len(jobs))
				jobs = append(jobs, resolve.Job{Input: t.name, Candidates: cands, Type: qt, Class: pl.class, Server: s})
			}
		}
		switch {
		case t.def && pl.systemServers:
			var g group
			for _, row := range at {
				g.idx = append(g.idx, row...)
			}
			groups = append(groups, g)
		case t.def:
			for si := range pl.servers {
				var g group
				for _, row := range at {
					g.idx = append(g.idx, row[si])
				}
				groups = append(groups, g)
			}
		case pl.systemServers:
			for _, row := range at {
				groups = append(groups, group{row})
			}
		default:
			for _, row := range at {
				for _, i := range row {
					groups = append(groups, group{[]int{i}})
				}
			}
		}
	}
	client := &resolve.Client{Opts: pl.opts}
	defer client.Close()
	results := client.RunAll(e.ctx, jobs, 32)

	allOK := true
	for _, g := range groups {
		ok := false
		for _, i := range g.idx {
			ok = ok || results[i].OK
		}
		allOK = allOK && ok
	}
	switch {
	case pl.short:
		for _, r := range results {
			if r.OK || len(r.Answer) > 0 {
				for _, rec := range r.Answer {
					p.Textf("%s\n", resolveSafe(rec.Data))
				}
			}
			if !r.OK && p.IsText() {
				p.Warn("nettool: resolve: %s %s @%s: %s", resolveSafe(r.Question.Name), r.Question.Type, output.Escape(r.Server), resolveStatus(r))
			}
		}
		if !p.IsText() {
			resolveWriteJSON(p, results, allOK, pl.validations)
		}
	case p.IsText():
		for i, r := range results {
			if i > 0 {
				p.Textf("\n")
			}
			resolvePrintText(p, r)
		}
		if len(pl.servers) > 1 {
			resolvePrintComparison(p, results)
		}
	default:
		resolveWriteJSON(p, results, allOK, pl.validations)
	}
	if e.ctx.Err() != nil {
		return errInterrupted
	}
	if !allOK {
		return errFailed
	}
	return nil
}

// resolveDoc is the --json document.
type resolveDoc struct {
	Type    string            `json:"type"`
	OK      bool              `json:"ok"`
	Results []*resolve.Result `json:"results"`
	// Validations: with --validate, the DNSSEC verdict per question and server.
	Validations []any `json:"validations,omitempty"`
}

func resolveWriteJSON(p *output.Printer, results []*resolve.Result, ok bool, validations []any) {
	ok = ok && resolveValidationsOK(validations)
	if p.Format() == output.JSONL {
		for _, r := range results {
			p.Stream(r)
		}
		for _, v := range validations {
			p.Stream(v)
		}
		failed := 0
		for _, r := range results {
			if !r.OK {
				failed++
			}
		}
		p.Doc(map[string]any{"type": "resolve_summary", "ok": ok, "queries": len(results), "failed": failed})
		return
	}
	p.Doc(resolveDoc{Type: "resolve", OK: ok, Results: results, Validations: validations})
}

// resolveSafe shows a string from the wire. Record data and names come from
// miekg/dns in zone-file form, already printable ASCII with \DDD escapes (as
// dig shows them): kept as they are. Anything else that is not printable
// ASCII goes through the terminal escaping.
func resolveSafe(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return output.Escape(s)
		}
	}
	return s
}

// resolveStatus is the one-word state of a result: the rcode, NODATA, or
// the failure.
func resolveStatus(r *resolve.Result) string {
	switch {
	case r.Malformed != "":
		return r.Rcode + " MALFORMED (" + output.Escape(r.Malformed) + ")"
	case r.Rcode == "NOERROR" && len(r.Answer) == 0:
		return "NOERROR (NODATA)"
	case r.Rcode != "":
		return r.Rcode
	}
	return output.Escape(r.Error)
}

func resolvePrintText(p *output.Printer, r *resolve.Result) {
	var h strings.Builder
	h.WriteString(";; ")
	h.WriteString(resolveSafe(r.Question.Name))
	if r.Question.Class != "IN" {
		h.WriteString(" " + r.Question.Class)
	}
	h.WriteString(" " + r.Question.Type)
	if r.InputName != "" && dns.Fqdn(r.InputName) != r.Question.Name {
		if q, err := resolve.QueryName(r.InputName); err == nil && dns.Fqdn(q) == r.Question.Name {
			// Asked as typed, in IDNA form or with dig's escapes.
			if strings.IndexFunc(r.InputName, func(c rune) bool { return c >= 0x80 }) >= 0 {
				fmt.Fprintf(&h, " (IDNA of %s)", output.Escape(r.InputName))
			}
		} else {
			fmt.Fprintf(&h, " (searched from %s)", output.Escape(r.InputName))
		}
	}
	fmt.Fprintf(&h, " @%s (%s", output.Escape(r.Server), r.Transport)
	if r.TCPFallback {
		h.WriteString(", UDP answer truncated: retried over TCP")
	}
	h.WriteString(")")
	if r.Rcode == "" {
		style := output.Red
		fmt.Fprintf(&h, " %s", p.Paint(style, "FAILED: "+output.Escape(r.Error)))
		p.Textf("%s\n", h.String())
		return
	}
	style := output.Green
	if !r.OK {
		style = output.Red
	}
	fmt.Fprintf(&h, " %s", p.Paint(style, resolveStatus(r)))
	if f := r.Flags.String(); f != "" {
		fmt.Fprintf(&h, " flags=%s", strings.ReplaceAll(f, " ", ","))
	}
	fmt.Fprintf(&h, " rtt=%.3fms", r.RTTMS)
	if r.Tries > 1 {
		fmt.Fprintf(&h, " tries=%d", r.Tries)
	}
	if ed := r.EDNS; ed != nil {
		fmt.Fprintf(&h, " edns=udp:%d", ed.UDPSize)
		if ed.DO {
			h.WriteString(",do")
		}
		if ed.NSID != "" {
			fmt.Fprintf(&h, `,nsid:"%s"`, resolveSafe(ed.NSID))
		}
		if ed.Subnet != "" {
			fmt.Fprintf(&h, ",subnet:%s", resolveSafe(ed.Subnet))
		}
		for _, x := range ed.EDE {
			fmt.Fprintf(&h, `,ede:"%s"`, resolveSafe(x))
		}
	}
	p.Textf("%s\n", h.String())
	sections := []struct {
		name string
		recs []resolve.Record
	}{{"ANSWER", r.Answer}, {"AUTHORITY", r.Authority}, {"ADDITIONAL", r.Additional}}
	var rows [][]string
	for _, s := range sections {
		if len(s.recs) == 0 {
			continue
		}
		if len(rows) == 0 {
			rows = append(rows, []string{"NAME", "TYPE", "CLASS", "TTL", "DATA"})
		}
		if s.name != "ANSWER" {
			rows = append(rows, []string{";; " + s.name})
		}
		for _, rec := range s.recs {
			rows = append(rows, []string{resolveSafe(rec.Name), rec.Type, rec.Class, fmt.Sprint(rec.TTL), resolveSafe(rec.Data)})
		}
	}
	p.Table(rows)
}

// resolvePrintComparison puts the servers' answers side by side, one row
// per question and server.
func resolvePrintComparison(p *output.Printer, results []*resolve.Result) {
	p.Textf("\n;; SIDE BY SIDE\n")
	rows := [][]string{{"QUESTION", "SERVER", "STATUS", "RTT", "ANSWER"}}
	for _, r := range results {
		status, rtt := resolveStatusWord(r), fmt.Sprintf("%.3fms", r.RTTMS)
		if r.Rcode == "" {
			status, rtt = strings.ToUpper(r.Failure), "-"
		}
		var data []string
		for _, rec := range r.Answer {
			data = append(data, resolveSafe(rec.Data))
		}
		rows = append(rows, []string{resolveSafe(r.Question.Name) + " " + r.Question.Type, output.Escape(r.Server), status, rtt, strings.Join(data, " | ")})
	}
	p.Table(rows)
}

// Batch.

// batchGCPercent is the GOGC of a batch. Its garbage is small (~32 bytes
// and 1.1 allocations a query), so collecting twice as often as Go's
// default costs little CPU and keeps the heap near its live size: peak RSS
// of a million names 15.4-15.8 MB at GOGC=100 against 13.2-13.5 MB at 50,
// user CPU within the runs' noise (4.8-5.1 s against 4.3-4.7 s; measured
// at 94 bytes a query, /usr/bin/time, alternating runs against nsd). A
// higher GOGC (400 until 2026-12-02) took it to 28 MB.
const batchGCPercent = 50

// batchGC sets the batch's GOGC unless the user chose one in the
// environment, and returns what puts the previous value back once the last
// of the batches running at the same time (runs inside tests) has ended.
func batchGC(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	batchGCState.Lock()
	if batchGCState.n == 0 {
		batchGCState.prev = debug.SetGCPercent(batchGCPercent)
	}
	batchGCState.n++
	batchGCState.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			batchGCState.Lock()
			defer batchGCState.Unlock()
			if batchGCState.n--; batchGCState.n == 0 {
				debug.SetGCPercent(batchGCState.prev)
			}
		})
	}
}

var batchGCState struct {
	sync.Mutex
	n    int
	prev int
}

func resolveBatch(e *appEnv, p *output.Printer, pl *resolvePlan) error {
	var in io.Reader
	name := pl.file
	if pl.file == "-" {
		in = e.stdinReader()
		name = "stdin"
	} else {
		if fi, err := os.Stat(pl.file); err == nil && fi.IsDir() {
			return probe.Usagef("cannot read %s: is a directory", pl.file)
		}
		f, err := openInput(e.ctx, pl.file)
		if err != nil {
			return inputError(err, "cannot read %s: %v", pl.file, resolveErrText(err))
		}
		defer f.Close()
		in = f
	}
	// A batch runs for a while: the code start-up mapped in all at once
	// goes back to being mapped as it runs, so the resident set holds the
	// batch's own.
	prefault.Release()
	defer batchGC(e.getenv)()
	w := p.Stdout()
	var line []byte
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	text := p.IsText()
	opts := resolve.BatchOptions{
		Servers:     pl.servers,
		Concurrency: pl.concurrency,
		Rate:        pl.rate,
		Opts:        pl.opts,
		OnBadLine: func(n int, err error) {
			p.Warn("nettool: resolve: %s:%d: %s", output.Escape(name), n, output.Escape(err.Error()))
		},
		Emit: func(r *resolve.Result) {
			if text {
				line = resolveBatchLine(line[:0], r, pl.short)
				if line != nil {
					_, _ = w.Write(line)
				}
				return
			}
			line = append(r.AppendJSON(line[:0]), '\n')
			_, _ = w.Write(line)
		},
		Flush:   func() { _ = p.Flush() },
		Recycle: true, // Emit writes r out and keeps nothing of it
	}
	st, err := resolve.RunBatch(e.ctx, in, opts)
	_ = p.Flush()
	if !text {
		buf.Reset()
		_ = enc.Encode(st)
		_, _ = w.Write(buf.Bytes())
		_ = p.Flush()
	}
	p.Warn(";; batch: sent %d, answered %d, noerror %d, nodata %d, nxdomain %d, servfail %d, refused %d, other rcode %d, timeouts %d, errors %d, bad lines %d, tcp fallbacks %d, retries %d; %.3f s, %.0f qps%s",
		st.Sent, st.Answered, st.NoError, st.NoData, st.NXDomain, st.ServFail, st.Refused, st.OtherRc, st.Timeouts, st.Errors, st.BadLines, st.TCPFall, st.Retries, st.ElapsedMS/1000, st.QPS,
		map[bool]string{true: e.stopNote(), false: ""}[st.Canceled])
	switch {
	case err != nil:
		return err
	case st.Canceled:
		return errInterrupted
	case st.BadLines > 0:
		return exitWith(exitUsage)
	case st.Sent == 0:
		return usageErrorf("%s holds no query: every line is empty or a comment", output.Escape(name))
	case !st.AllOK():
		return errFailed
	}
	return nil
}

// resolveBatchLine renders one result on one line: NAME TYPE STATUS RTT DATA...
func resolveBatchLine(b []byte, r *resolve.Result, short bool) []byte {
	if short {
		for _, rec := range r.Answer {
			b = append(b, resolveSafe(rec.Data)...)
			b = append(b, '\n')
		}
		return b
	}
	b = append(b, resolveSafe(r.Question.Name)...)
	b = append(b, ' ')
	b = append(b, r.Question.Type...)
	b = append(b, ' ')
	if r.Rcode != "" {
		b = append(b, resolveStatusWord(r)...)
		b = fmt.Appendf(b, " %.3fms", r.RTTMS)
		for i, rec := range r.Answer {
			if i == 0 {
				b = append(b, ' ')
			} else {
				b = append(b, " | "...)
			}
			b = append(b, resolveSafe(rec.Data)...)
		}
	} else {
		b = append(b, strings.ToUpper(r.Failure)...)
		b = append(b, ' ')
		b = append(b, output.Escape(r.Error)...)
	}
	return append(b, '\n')
}

func resolveStatusWord(r *resolve.Result) string {
	if r.Malformed != "" {
		return "MALFORMED"
	}
	if r.Rcode == "NOERROR" && len(r.Answer) == 0 {
		return "NODATA"
	}
	return r.Rcode
}
