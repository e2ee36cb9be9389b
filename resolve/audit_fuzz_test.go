package resolve

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/nettool/nettool/probe"
)

// FuzzReadLines: the batch reader ends on any input (a line of up to
// repeat*len(data) bytes, so overlong and abandoned lines are reached),
// every line is either an item or a usage error, line numbers only grow,
// and nothing after an abandoned line is read.
func FuzzReadLines(f *testing.F) {
	for _, s := range []string{"www.example.com A\n# c\n\nx..y\n", "a\r\nb MX\nc", "\x00\x00", strings.Repeat("a", 5000) + "\nb\n"} {
		f.Add([]byte(s), uint16(1))
	}
	f.Add([]byte("\x00"), uint16(40000))
	f.Fuzz(func(t *testing.T, data []byte, repeat uint16) {
		if len(data) == 0 {
			return
		}
		// Long inputs only as one endless line (cheap to read); inputs
		// with many lines stay short so the fuzzer keeps its pace.
		limit := 64 << 10
		if bytes.IndexByte(data, '\n') < 0 {
			limit = maxSkip + 128<<10
		}
		in := bytes.Repeat(data, min(int(repeat)+1, limit/len(data)+1))
		if len(in) > limit {
			in = in[:limit]
		}
		out := make(chan []batchItem, 4)
		var bads []int
		abandoned := false
		bad := func(n int, err error) {
			if !probe.IsUsage(err) {
				t.Fatalf("line %d: non-usage error %v", n, err)
			}
			if abandoned {
				t.Fatalf("line %d reported after the input was abandoned", n)
			}
			abandoned = strings.Contains(err.Error(), "abandoned")
			bads = append(bads, n)
		}
		done := make(chan error, 1)
		go func() { done <- readLines(context.Background(), bytes.NewReader(in), out, nil, bad) }()
		last := 0
		for chunk := range out {
			for _, it := range chunk {
				if it.line <= last {
					t.Fatalf("line %d after %d", it.line, last)
				}
				last = it.line
				if CheckName(strings.TrimSuffix(it.name, ".")) != nil && it.name != "." {
					t.Fatalf("bad name %q accepted", it.name)
				}
			}
		}
		if err := <-done; err != nil && err != io.EOF {
			t.Fatalf("reader: %v", err)
		}
		if abandoned && last > bads[len(bads)-1] {
			t.Fatalf("item at line %d after the abandoned line %d", last, bads[len(bads)-1])
		}
	})
}
