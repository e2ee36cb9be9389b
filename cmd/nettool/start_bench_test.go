package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// The in-process part of a short run's start-up: building the app, parsing
// the flags and, for resolve, one query to a closed loopback port (answered
// at once with a refusal). `-benchmem`'s allocs/op is the figure that load
// does not move; scripts/bench/resolve.sh times the whole process.
func benchRun(b *testing.B, args ...string) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		run(context.Background(), append([]string{"nettool"}, args...), strings.NewReader(""), io.Discard, io.Discard)
	}
}

func BenchmarkStartResolve(b *testing.B) {
	benchRun(b, "resolve", "x.test", "A", "@127.0.0.1:1", "--short", "--timeout", "0.2")
}

func BenchmarkStartVersion(b *testing.B) { benchRun(b, "--version") }

func BenchmarkStartUsageError(b *testing.B) { benchRun(b, "get", "--bogus") }
