package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/probe/ping"
)

// TestPingAuditErrorTextJSONEscaped: an error event's text (today built
// from ICMP type/code or errno, never from packet bytes; checked should that
// change) and the target name reach JSON and JSONL with no byte a terminal
// acts on, and decode to the same text.
func TestPingAuditErrorTextJSONEscaped(t *testing.T) {
	const evil = "unreachable\x1b[2J\x07\x7f\u009b31m\u202eevil"
	for _, f := range []output.Format{output.JSONL, output.JSON} {
		var out, errb bytes.Buffer
		p := output.New(&out, &errb, output.Options{Format: f})
		v := &pingView{p: p}
		tg := ping.Target{Name: "evil\u202ename", Addr: pingAddr("127.0.0.9")}
		v.event(ping.Event{Kind: ping.EventError, Target: tg, Seq: 4, From: pingAddr("127.0.0.1"), Err: evil, Time: time.Now()})
		v.event(ping.Event{Kind: ping.EventError, Target: tg, Seq: 5, Err: evil, Time: time.Now()})
		got := out.String() + errb.String()
		for _, bad := range []string{"\x1b", "\x07", "\x7f", "\u009b", "\u202e"} {
			if strings.Contains(got, bad) {
				t.Errorf("format %v: raw %q in %q", f, bad, got)
			}
		}
		if f == output.JSONL {
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("want 2 lines, got %q", out.String())
			}
			for _, l := range lines {
				var e struct{ Type, Error, Target string }
				if err := json.Unmarshal([]byte(l), &e); err != nil || e.Type != "ping_error" || e.Error != evil || e.Target != "evil\u202ename" {
					t.Errorf("line %q: %+v %v", l, e, err)
				}
			}
		}
	}
}
