package resolve

import (
	"context"
	"sync"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// Job is one question for one server. With a search list, Candidates holds
// the fully qualified names to try in order; otherwise one name.
type Job struct {
	Input      string   // the name as typed
	Candidates []string // fully qualified names to try, in order
	Type       uint16
	Class      uint16
	Server     Server
}

// Search asks s about the candidate names in order, as the system resolver
// does: it stops at the first answer with data and goes on after NXDOMAIN,
// NODATA or SERVFAIL; a timeout or a transport error ends the search. The
// result is the first with data, else the first NODATA, else the last one.
func (c *Client) Search(ctx context.Context, j Job) *Result {
	var first, nodata *Result
	var last *Result
	for _, name := range j.Candidates {
		r := c.Lookup(ctx, j.Server, NewQuestion(name, j.Type, j.Class))
		if len(j.Candidates) > 1 || dns.Fqdn(j.Input) != r.Question.Name {
			r.InputName = j.Input
		}
		last = r
		if first == nil {
			first = r
		}
		if r.OK {
			return r
		}
		switch r.Failure {
		case probe.FailDNSNoData:
			if nodata == nil {
				nodata = r
			}
		case probe.FailDNSNXDomain, probe.FailDNSServFail:
		default:
			return r
		}
	}
	if nodata != nil {
		return nodata
	}
	return last
}

// RunAll runs the jobs concurrently (at most limit at a time) and returns
// their results in the jobs' order.
func (c *Client) RunAll(ctx context.Context, jobs []Job, limit int) []*Result {
	if limit < 1 {
		limit = 1
	}
	out := make([]*Result, len(jobs))
	if len(jobs) == 1 {
		out[0] = c.Search(ctx, jobs[0])
		return out
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = c.Search(ctx, j)
		}()
	}
	wg.Wait()
	return out
}
