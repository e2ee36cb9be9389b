package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/resolve"
)

const resolveCatTrace = "TRACE AND DNSSEC"

func resolveTraceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "trace", Usage: "resolve iteratively from the root, asking every server of every zone (like dig +trace)", Category: resolveCatTrace},
		&cli.BoolFlag{Name: "qmin", Usage: "with --trace: minimise query names (RFC 9156)", Category: resolveCatTrace},
		&cli.BoolFlag{Name: "validate", Usage: "check the DNSSEC chain of trust from the trust anchor (with --trace or on an ordinary answer)", Category: resolveCatTrace},
		&cli.StringFlag{Name: "root-hints", Usage: "root servers from `FILE` (named.root or a zone file) instead of the built-in IANA list", Category: resolveCatTrace},
		&cli.StringFlag{Name: "trust-anchor", Usage: "root trust anchor from `FILE` (DS or DNSKEY records) instead of the built-in root KSKs", Category: resolveCatTrace},
		&cli.BoolFlag{Name: "ipv4", Aliases: []string{"4"}, Usage: "IPv4 only: servers asked over IPv4 (resolv.conf's IPv6 servers left out, @NAME looked up as A); with --trace, AAAA glue and IPv6 hints left out", Category: resolveCatTrace},
		&cli.BoolFlag{Name: "ipv6", Aliases: []string{"6"}, Usage: "IPv6 only: servers asked over IPv6 (resolv.conf's IPv4 servers left out, @NAME looked up as AAAA); with --trace, A glue and IPv4 hints left out", Category: resolveCatTrace},
		&cli.IntFlag{Name: "max-depth", Value: 16, Usage: "with --trace: zone cuts on one path at most", Category: resolveCatTrace},
		&cli.IntFlag{Name: "max-referrals", Value: 64, Usage: "with --trace: referrals, CNAME restarts and name-server lookups at most", Category: resolveCatTrace},
		&cli.IntFlag{Name: "max-servers", Value: 16, Usage: "with --trace: server addresses asked per zone at most", Category: resolveCatTrace},
		&cli.DurationFlag{Name: "deadline", Value: 30 * time.Second, Usage: "with --trace or --validate: the whole run ends after this long", Category: resolveCatTrace},
	}
}

// resolveTraceOpts is the trace/validate part of the command line.
type resolveTraceOpts struct {
	trace    bool
	qmin     bool
	validate bool
	hints    []resolve.NameServer
	anchors  []dns.RR
	deadline time.Duration
	maxDepth int
	maxRefs  int
	maxSrv   int
}

func resolveTraceWanted(c *cli.Context, a resolve.Args) bool {
	return c.Bool("trace") || (a.Plus.Trace != nil && *a.Plus.Trace)
}

// resolveTracePlan reads the trace flags; nil when neither --trace nor
// --validate is given.
func resolveTracePlan(c *cli.Context, a resolve.Args, pl *resolvePlan) (*resolveTraceOpts, error) {
	tp := &resolveTraceOpts{trace: resolveTraceWanted(c, a), qmin: c.Bool("qmin"), validate: c.Bool("validate"),
		deadline: c.Duration("deadline"), maxDepth: c.Int("max-depth"), maxRefs: c.Int("max-referrals"), maxSrv: c.Int("max-servers")}
	if a.Plus.QMin != nil {
		tp.qmin = *a.Plus.QMin
	}
	if !tp.trace && !tp.validate {
		if tp.qmin {
			return nil, probe.Usagef("--qmin needs --trace")
		}
		return nil, nil
	}
	if tp.qmin && !tp.trace {
		return nil, probe.Usagef("--qmin needs --trace")
	}
	if tp.deadline <= 0 || tp.deadline > time.Hour {
		return nil, probe.Usagef("bad --deadline %s: want more than 0 and at most 1h", tp.deadline)
	}
	for _, b := range []struct {
		name string
		v    int
	}{{"max-depth", tp.maxDepth}, {"max-referrals", tp.maxRefs}, {"max-servers", tp.maxSrv}} {
		if b.v < 1 || b.v > 1000 {
			return nil, probe.Usagef("bad --%s %d: want 1-1000", b.name, b.v)
		}
	}
	if f := c.String("root-hints"); f != "" {
		fh, err := os.Open(f)
		if err != nil {
			return nil, probe.Usagef("cannot read --root-hints %s: %v", f, resolveErrText(err))
		}
		defer fh.Close()
		if tp.hints, err = resolve.ParseRootHints(fh, f); err != nil {
			return nil, err
		}
	}
	if f := c.String("trust-anchor"); f != "" {
		fh, err := os.Open(f)
		if err != nil {
			return nil, probe.Usagef("cannot read --trust-anchor %s: %v", f, resolveErrText(err))
		}
		defer fh.Close()
		if tp.anchors, err = resolve.ParseTrustAnchor(fh, f); err != nil {
			return nil, err
		}
		if o := tp.anchors[0].Header().Name; o != "." {
			return nil, probe.Usagef("--trust-anchor %s is for %s: give the root's (\".\") DS or DNSKEY records", f, o)
		}
	}
	if tp.trace {
		if len(pl.servers) > 1 {
			return nil, probe.Usagef("--trace takes one @SERVER at most (it names the root servers to start from)")
		}
		if len(pl.servers) == 1 && pl.servers[0].Transport != resolve.UDP && pl.servers[0].Transport != resolve.TCP {
			return nil, probe.Usagef("--trace starts from a udp:// or tcp:// server, not %s", pl.servers[0])
		}
		if len(pl.names)+len(pl.reverse) != 1 {
			return nil, probe.Usagef("--trace follows one name at a time")
		}
		if len(pl.types) > 1 && !pl.defaultType {
			return nil, probe.Usagef("--trace follows one type at a time")
		}
	}
	return tp, nil
}

func resolveTrace(e *appEnv, p *output.Printer, pl *resolvePlan, tp *resolveTraceOpts) error {
	name := ""
	if len(pl.names) > 0 {
		name = pl.names[0]
	} else {
		name = pl.reverse[0]
	}
	qtype := pl.types[0]
	if pl.defaultType {
		qtype = dns.TypeA
	}
	o := resolve.TraceOptions{Hints: tp.hints, QMin: tp.qmin, Validate: tp.validate, Anchors: tp.anchors, Query: pl.opts,
		MaxDepth: tp.maxDepth, MaxReferrals: tp.maxRefs, MaxServers: tp.maxSrv, NoIPv4: pl.opts.Family == 6, NoIPv6: pl.opts.Family == 4}
	if len(pl.servers) == 1 {
		s := pl.servers[0]
		o.Start = &s
		// As dig -p: every server of the trace is asked on the port of
		// @SERVER.
		o.Port = s.Port
	}
	ctx, cancel := context.WithTimeout(e.ctx, tp.deadline)
	defer cancel()
	res, err := resolve.Trace(ctx, name, qtype, pl.class, o)
	if err != nil {
		return err
	}
	if e.ctx.Err() != nil {
		res.OK = false
	}
	bogus := res.Validation != nil && res.Validation.Verdict != resolve.Secure && res.Validation.Verdict != resolve.Insecure
	if p.IsText() {
		resolvePrintTrace(p, res, o)
	} else {
		p.Doc(res)
	}
	switch {
	case e.ctx.Err() != nil:
		return errInterrupted
	case !res.OK || bogus:
		return errFailed
	}
	return nil
}

// resolveTraceDoc is the start line of the text form.
func resolvePrintTrace(p *output.Printer, res *resolve.TraceResult, o resolve.TraceOptions) {
	start := "the built-in root hints"
	switch {
	case o.Start != nil:
		start = "the root servers " + output.Escape(o.Start.String()) + " names"
	case o.Hints != nil:
		start = "the given root hints"
	}
	mode := ""
	if res.QMin {
		mode = ", qname minimisation on"
	}
	p.Textf(";; trace %s %s from %s%s\n", resolveSafe(res.Question.Name), res.Question.Type, start, mode)
	for _, lv := range res.Levels {
		outcome := lv.Outcome
		if lv.Referral != "" {
			outcome += " to " + resolveSafe(lv.Referral)
		}
		asked := ""
		if !strings.EqualFold(lv.QName, res.Question.Name) || lv.QType != res.Question.Type {
			asked = fmt.Sprintf(" (asked %s %s)", resolveSafe(lv.QName), lv.QType)
		}
		style := output.Green
		if outcome == "failed" || outcome == "loop" {
			style = output.Red
		}
		p.Textf("\n%s%s: %s, %d server(s), %.3fms\n", p.Paint(output.Bold, resolveSafe(lv.Zone)), asked, p.Paint(style, outcome), len(lv.Servers), lv.ElapsedMS)
		for i, s := range lv.Servers {
			branch := "├─"
			if i == len(lv.Servers)-1 {
				branch = "└─"
			}
			p.Textf("  %s %s\n", branch, resolveTraceServerLine(p, s))
		}
	}
	if len(res.Answer) > 0 {
		p.Textf("\n;; ANSWER\n")
		for _, r := range res.Answer {
			if r.Type == "RRSIG" && res.Validation == nil {
				continue
			}
			p.Textf("%s\t%d\t%s\t%s\t%s\n", resolveSafe(r.Name), r.TTL, r.Class, r.Type, resolveSafe(r.Data))
		}
	}
	if len(res.Findings) > 0 {
		p.Textf("\n;; FINDINGS\n")
		for _, f := range res.Findings {
			st := output.Yellow
			switch f.Severity {
			case "error":
				st = output.Red
			case "info":
				st = output.Cyan
			}
			p.Textf("%s %s\n", p.Paint(st, f.Severity+" "+f.Code), resolveSafe(f.Message))
		}
	}
	if v := res.Validation; v != nil {
		resolvePrintValidation(p, v)
	}
	status := strings.ToUpper(res.Status)
	if res.Status == "failed" {
		status = "FAILED: " + resolveSafe(res.Error)
	}
	style := output.Green
	if !res.OK {
		style = output.Red
	}
	p.Textf("\n;; %s: %s in %d level(s), %d queries, %.3fms\n", resolveSafe(res.Question.Name), p.Paint(style, status), len(res.Levels), res.Queries, res.ElapsedMS)
}

func resolveTraceServerLine(p *output.Printer, s *resolve.TraceServer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", resolveSafe(s.Name), s.Addr)
	if s.Source != "" && s.Source != "hint" {
		fmt.Fprintf(&b, " (%s)", s.Source)
	}
	switch s.Outcome {
	case "timeout", "error":
		fmt.Fprintf(&b, " %s %s", p.Paint(output.Red, strings.ToUpper(s.Outcome)), resolveSafe(s.Error))
		return b.String()
	}
	st := output.Green
	switch s.Outcome {
	case "lame", "loop":
		st = output.Red
	case "nxdomain", "nodata":
		st = output.Yellow
	}
	fmt.Fprintf(&b, " %s %s", p.Paint(st, s.Outcome), s.Rcode)
	if s.AA {
		b.WriteString(" aa")
	}
	fmt.Fprintf(&b, " %.3fms", s.RTTMS)
	if s.Referral != "" {
		fmt.Fprintf(&b, " -> %s", resolveSafe(s.Referral))
		if len(s.NS) > 0 {
			ns := make([]string, len(s.NS))
			for i, n := range s.NS {
				ns[i] = resolveSafe(n)
			}
			fmt.Fprintf(&b, " [%s]", strings.Join(ns, " "))
		}
	}
	if s.Serial != nil {
		fmt.Fprintf(&b, " serial=%d", *s.Serial)
	}
	return b.String()
}

func resolvePrintValidation(p *output.Printer, v *resolve.Validation) {
	p.Textf("\n;; DNSSEC (trust anchor: %s)\n", strings.Join(v.Anchor, ", "))
	rows := [][]string{}
	for _, z := range v.Zones {
		rows = append(rows, []string{resolveSafe(z.Zone), z.Verdict, resolveSafe(z.Reason)})
	}
	p.Table(rows)
	st := output.Green
	switch v.Verdict {
	case resolve.Bogus, resolve.Indeterminate:
		st = output.Red
	case resolve.Insecure:
		st = output.Yellow
	}
	line := fmt.Sprintf(";; answer: %s (%s)", p.Paint(st, v.Verdict), resolveSafe(v.Reason))
	if v.Code != "" {
		line += " [" + v.Code + "]"
	}
	p.Textf("%s\n", line)
}

// resolveInteractiveValidate runs the ordinary queries, then validates each
// answer through the server that gave it.
func resolveInteractiveValidate(e *appEnv, p *output.Printer, pl *resolvePlan, tp *resolveTraceOpts) error {
	ctx, cancel := context.WithTimeout(e.ctx, tp.deadline)
	defer cancel()
	var names []string
	for _, n := range pl.names {
		names = append(names, dns.Fqdn(n))
	}
	names = append(names, pl.reverse...)
	type item struct {
		q   resolve.Question
		srv resolve.Server
		v   *resolve.Validation
	}
	var items []*item
	for _, n := range names {
		types := pl.types
		if pl.defaultType {
			types = []uint16{dns.TypeA}
		}
		for _, t := range types {
			for _, s := range pl.servers {
				items = append(items, &item{q: resolve.NewQuestion(n, t, pl.class), srv: s})
			}
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, it := range items {
		wg.Add(1)
		go func(it *item) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			it.v = resolve.Validate(ctx, it.srv, it.q, resolve.ValidateOptions{Anchors: tp.anchors, Query: pl.opts})
		}(it)
	}
	wg.Wait()
	// The ordinary output first, then the verdicts.
	failed := false
	var docs []any
	for _, it := range items {
		failed = failed || (it.v.Verdict != resolve.Secure && it.v.Verdict != resolve.Insecure)
		docs = append(docs, resolveValidationDoc{Type: "resolve_validation", Question: it.q, Server: it.srv.String(), Validation: it.v})
	}
	pl.validations = docs
	err := resolveInteractive(e, p, pl)
	if p.IsText() {
		for _, it := range items {
			p.Textf("\n;; %s %s @%s\n", resolveSafe(it.q.Name), it.q.Type, output.Escape(it.srv.String()))
			resolvePrintValidation(p, it.v)
		}
	}
	if err != nil && !(failed && err == errFailed) {
		return err
	}
	if failed {
		return errFailed
	}
	return nil
}

// resolveValidationDoc is one verdict in the --json document of an
// ordinary query with --validate.
type resolveValidationDoc struct {
	Type       string              `json:"type"` // "resolve_validation"
	Question   resolve.Question    `json:"question"`
	Server     string              `json:"server"`
	Validation *resolve.Validation `json:"validation"`
}

// resolveValidationsOK: no verdict is bogus or indeterminate.
func resolveValidationsOK(docs []any) bool {
	for _, d := range docs {
		if v, ok := d.(resolveValidationDoc); ok && v.Validation.Verdict != resolve.Secure && v.Validation.Verdict != resolve.Insecure {
			return false
		}
	}
	return true
}
