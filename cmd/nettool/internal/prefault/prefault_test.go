//go:build !(386 || arm || mips || mipsle)

// The sample maps hold 64-bit addresses.

package prefault

import (
	"reflect"
	"testing"
)

const sampleMaps = `00400000-00a20000 r-xp 00000000 fe:00 9978232                            /tmp/my dir/nettool
00a20000-01065000 r--p 00620000 fe:00 9978232                            /tmp/my dir/nettool
01065000-010e1000 rw-p 00c65000 fe:00 9978232                            /tmp/my dir/nettool
010e1000-03124000 rw-p 00000000 00:00 0 
2b4964000000-2b4965000000 ---p 00000000 00:00 0 
2b4965000000-2b4965800000 rw-p 00000000 00:00 0 
2b4965800000-2b4968000000 ---p 00000000 00:00 0 
7fefaa200000-7fefaa400000 rw-p 00000000 00:00 0 
7f3c7fe00000-7f3c7ff00000 r-xp 00000000 fe:00 326269                     /usr/lib/x86_64-linux-gnu/libc.so.6
bogus line
7ffe8ca70000-7ffe8ca91000 rw-p 00000000 00:00 0                          [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
`

func TestPlan(t *testing.T) {
	regions := parseMaps([]byte(sampleMaps))
	if len(regions) != 11 {
		t.Fatalf("parsed %d regions, want 11 (the bogus line skipped): %+v", len(regions), regions)
	}
	if got := string(regions[0].path); got != "/tmp/my dir/nettool" {
		t.Errorf("path %q: a path keeps its spaces", got)
	}
	cases := []struct {
		name       string
		exe        string
		heapAddr   uintptr
		text, heap []region
	}{
		{
			name: "code of the program only, and a megabyte of heap from the mark's page",
			exe:  "/tmp/my dir/nettool", heapAddr: 0x2b4965012345,
			text: []region{{lo: 0x400000, hi: 0xa20000, perms: []byte("r-xp"), path: []byte("/tmp/my dir/nettool")}},
			heap: []region{{lo: 0x2b4965012000, hi: 0x2b4965112000, perms: []byte("rw-p")}},
		},
		{
			name: "the heap mapping's end bounds the range",
			exe:  "/tmp/my dir/nettool", heapAddr: 0x2b49657ff010,
			text: []region{{lo: 0x400000, hi: 0xa20000, perms: []byte("r-xp"), path: []byte("/tmp/my dir/nettool")}},
			heap: []region{{lo: 0x2b49657ff000, hi: 0x2b4965800000, perms: []byte("rw-p")}},
		},
		{
			name: "no program path: no code; a mark in a reserved (---p) range: no heap",
			exe:  "", heapAddr: 0x2b4964000100,
		},
		{
			name: "a mark in a named mapping ([stack]) is not the heap",
			exe:  "/other", heapAddr: 0x7ffe8ca70100,
		},
	}
	for _, c := range cases {
		text, heap := plan(regions, c.exe, c.heapAddr)
		if !reflect.DeepEqual(text, c.text) || !reflect.DeepEqual(heap, c.heap) {
			t.Errorf("%s:\ntext %+v\nheap %+v\nwant %+v\n     %+v", c.name, text, heap, c.text, c.heap)
		}
	}
}

func TestParseMapsMalformed(t *testing.T) {
	for _, in := range []string{
		"", "\n\n", "00400000", "00400000-", "00a20000-00400000 r-xp 0 0 0 /x",
		"00400000-00a20000", "zz-yy r-xp 0 0 0 /x", "00400000-00a20000 r-xp",
		"11111111111111111-22222222222222222 r-xp 0 0 0 /x",
	} {
		if r := parseMaps([]byte(in)); len(r) != 0 {
			t.Errorf("parseMaps(%q) = %+v, want nothing", in, r)
		}
	}
}
