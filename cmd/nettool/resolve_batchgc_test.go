package main

import (
	"runtime/metrics"
	"testing"
)

func gogcNow(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("/gc/gogc:percent: kind %v", s[0].Value.Kind())
	}
	return s[0].Value.Uint64()
}

// A batch collects at batchGCPercent unless GOGC is set, and puts the
// previous GOGC back when it ends.
func TestBatchGC(t *testing.T) {
	before := gogcNow(t)
	if before == batchGCPercent {
		t.Fatalf("GOGC is already %d: the test cannot tell a change", before)
	}
	restore := batchGC(func(string) string { return "" })
	if got := gogcNow(t); got != batchGCPercent {
		t.Errorf("during a batch, GOGC = %d, want %d", got, batchGCPercent)
	}
	restore()
	if got := gogcNow(t); got != before {
		t.Errorf("after a batch, GOGC = %d, want %d back", got, before)
	}

	restore = batchGC(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	})
	if got := gogcNow(t); got != before {
		t.Errorf("with GOGC=200 in the environment, GOGC = %d, want it left at %d", got, before)
	}
	restore()
	if got := gogcNow(t); got != before {
		t.Errorf("after a batch with GOGC set, GOGC = %d, want %d", got, before)
	}
}

// Batches that overlap (runs inside one test binary) put GOGC back only
// when the last one ends, whatever the order they end in.
func TestBatchGCOverlap(t *testing.T) {
	before := gogcNow(t)
	none := func(string) string { return "" }
	a := batchGC(none)
	b := batchGC(none)
	a()
	a() // a second call changes nothing
	if got := gogcNow(t); got != batchGCPercent {
		t.Errorf("with one batch still running, GOGC = %d, want %d", got, batchGCPercent)
	}
	b()
	if got := gogcNow(t); got != before {
		t.Errorf("after both batches, GOGC = %d, want %d", got, before)
	}
}
