package ipinfo

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nettool/nettool/probe"
)

// DefaultTimeout bounds each provider call.
const DefaultTimeout = 5 * time.Second

// Options configure Discover.
type Options struct {
	Providers []Provider
	Families  []Family      // the families asked, each voted on separately
	Quorum    int           // agreeing valid answers needed; 0: 2 with two providers or more, else 1
	Timeout   time.Duration // per provider call; 0: DefaultTimeout
	UserAgent string
	NoProxy   bool // ignore HTTP_PROXY/HTTPS_PROXY (a proxy makes providers see its address)
	Validate  ValidateOptions
	Resolver  *net.Resolver  // resolves provider and DNS server names; nil: the system's
	RootCAs   *x509.CertPool // trusted roots for https providers; nil: the system's
	// OnAnswer, when set, is called with each answer as it arrives (from
	// several goroutines, one call at a time).
	OnAnswer func(Answer)
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o Options) userAgent() string {
	if o.UserAgent != "" {
		return o.UserAgent
	}
	return "nettool"
}

func (o Options) resolver() *net.Resolver {
	if o.Resolver != nil {
		return o.Resolver
	}
	return net.DefaultResolver
}

// DefaultQuorum is the quorum used when none is given for n providers.
func DefaultQuorum(n int) int {
	if n >= 2 {
		return 2
	}
	return 1
}

// External is the verdict for one family.
type External struct {
	probe.Meta          // type "external_address", target: the family
	Family     string   `json:"family"`
	Address    string   `json:"address,omitempty"`
	Class      Class    `json:"class,omitempty"`
	Quorum     int      `json:"quorum"`
	Agreeing   int      `json:"agreeing"` // valid answers for Address
	Valid      int      `json:"valid"`    // valid answers in all
	Asked      int      `json:"asked"`
	Dissent    []string `json:"dissent,omitempty"` // other valid addresses some providers gave
	Answers    []Answer `json:"answers"`

	addr netip.Addr
}

// Addr is the agreed address (invalid without consensus).
func (e External) Addr() netip.Addr { return e.addr }

// Discover asks every provider in every family concurrently. A family's vote
// ends as soon as one address has Quorum valid answers (the other calls are
// cancelled and reported as such) or can no longer get them. It returns after
// every call it started has returned.
func Discover(ctx context.Context, o Options) []External {
	a := newAsker(o)
	defer a.close()
	out := make([]External, len(o.Families))
	var wg sync.WaitGroup
	var mu sync.Mutex // serialises OnAnswer
	for i, f := range o.Families {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = a.vote(ctx, f, &mu)
		}()
	}
	wg.Wait()
	return out
}

type indexed struct {
	i   int
	ans Answer
}

func (a *asker) vote(parent context.Context, f Family, mu *sync.Mutex) External {
	o := a.opts
	n := len(o.Providers)
	quorum := o.Quorum
	if quorum <= 0 {
		quorum = DefaultQuorum(n)
	}
	ext := External{
		Meta:    probe.Meta{Type: "external_address", Target: f.Key(), Start: time.Now()},
		Family:  f.Key(),
		Quorum:  quorum,
		Asked:   n,
		Answers: make([]Answer, n),
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	results := make(chan indexed, n) // buffered: no sender ever blocks
	var wg sync.WaitGroup
	for i, p := range o.Providers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- indexed{i, a.ask(ctx, p, f)}
		}()
	}
	counts := map[netip.Addr]int{}
	var winner netip.Addr
	pending := n
	record := func(r indexed) {
		ext.Answers[r.i] = r.ans
		if o.OnAnswer != nil {
			mu.Lock()
			o.OnAnswer(r.ans)
			mu.Unlock()
		}
	}
	for pending > 0 {
		r := <-results
		pending--
		record(r)
		if r.ans.OK {
			counts[r.ans.addr]++
			if counts[r.ans.addr] >= quorum {
				winner = r.ans.addr
				break
			}
		}
		best := 0
		for _, c := range counts {
			best = max(best, c)
		}
		if best+pending < quorum {
			break // no address can reach the quorum any more
		}
	}
	stoppedAt := time.Since(ext.Start)
	cancel()
	wg.Wait()
	close(results)
	label := func(a *Answer) {
		switch {
		case a.Failure != probe.FailCanceled:
		case parent.Err() != nil:
			a.Error = "interrupted"
		case winner.IsValid():
			a.Error = "not needed: the quorum was reached"
		default:
			a.Error = "not needed: the quorum could no longer be reached"
		}
	}
	for r := range results {
		if r.ans.OK {
			counts[r.ans.addr]++
		} else if r.ans.Failure == probe.FailCanceled {
			r.ans.ElapsedMS = probe.Millis(stoppedAt)
			label(&r.ans)
		}
		record(r)
	}
	for i := range ext.Answers {
		label(&ext.Answers[i])
	}
	ext.ElapsedMS = probe.Millis(stoppedAt)
	for addr, c := range counts {
		ext.Valid += c
		if addr != winner {
			ext.Dissent = append(ext.Dissent, addr.String())
		}
	}
	sort.Strings(ext.Dissent)
	if winner.IsValid() {
		ext.OK = true
		ext.addr = winner
		ext.Address = winner.String()
		ext.Class = Classify(winner)
		ext.Agreeing = counts[winner]
		for i := range ext.Answers {
			ext.Answers[i].Agrees = ext.Answers[i].OK && ext.Answers[i].addr == winner
		}
		return ext
	}
	ext.OK = false
	ext.Failure = probe.FailNoConsensus
	switch {
	case parent.Err() != nil:
		ext.Failure = probe.FailCanceled
		ext.Error = "interrupted"
	case ext.Valid == 0:
		ext.Error = fmt.Sprintf("no valid %s answer from %s%s", f, probe.Count(n, "provider", "providers"), failureTally(ext.Answers))
	case len(counts) > 1:
		ext.Error = fmt.Sprintf("providers disagree (%s), quorum %d not reached", describeCounts(counts), quorum)
	default:
		ext.Error = fmt.Sprintf("only %s (%s), quorum %d not reached", probe.Count(ext.Valid, "valid answer", "valid answers"), describeCounts(counts), quorum)
	}
	return ext
}

func describeCounts(counts map[netip.Addr]int) string {
	type kv struct {
		a netip.Addr
		c int
	}
	var list []kv
	for a, c := range counts {
		list = append(list, kv{a, c})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].c != list[j].c {
			return list[i].c > list[j].c
		}
		return list[i].a.Less(list[j].a)
	})
	s := ""
	for i, x := range list {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s x%d", x.a, x.c)
	}
	return s
}

// failureTally sums up why answers failed: " (timeout x2, not_public x1)".
func failureTally(answers []Answer) string {
	counts := map[string]int{}
	for _, a := range answers {
		if !a.OK && a.Failure != "" {
			counts[a.Failure]++
		}
	}
	if len(counts) == 0 {
		return ""
	}
	codes := make([]string, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if counts[codes[i]] != counts[codes[j]] {
			return counts[codes[i]] > counts[codes[j]]
		}
		return codes[i] < codes[j]
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s x%d", c, counts[c])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
