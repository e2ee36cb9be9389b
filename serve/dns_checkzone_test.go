package serve

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// TestDNSZoneRejectsAsCheckzone loads zone files that nsd-checkzone and
// named-checkzone refuse (and a few they take) and wants the same verdict,
// with the line they name. Where the two disagree the case says which one
// serve dns follows.
func TestDNSZoneRejectsAsCheckzone(t *testing.T) {
	nsd := probetest.LookPeer(t, "nsd-checkzone")
	named := probetest.LookPeer(t, "named-checkzone")
	l63 := strings.Repeat("a", 63)
	long := l63 + "." + l63 + "." + l63 + "." + l63 // 256 octets with the origin: too long
	s256 := strings.Repeat("x", 256)
	cases := []struct {
		name   string
		record string
		follow string // "" both tools agree; else "nsd" or "named": whom serve dns follows
		msg    string // in serve dns's error
	}{
		{"txt 255", `a IN TXT "` + strings.Repeat("x", 255) + `"`, "", ""},
		{"txt 256", `a IN TXT "` + s256 + `"`, "", "character-string of 256 octets"},
		{"txt 256 second string", `a IN TXT "x" "` + s256 + `"`, "", "character-string of 256 octets"},
		{"txt 256 unquoted", "a IN TXT " + s256, "", "character-string of 256 octets"},
		{"txt 256 escaped", `a IN TXT "` + strings.Repeat(`\120`, 256) + `"`, "", "character-string of 256 octets"},
		{"txt 255 escaped", `a IN TXT "` + strings.Repeat(`\"`, 255) + `"`, "", ""},
		{"hinfo 256", `a IN HINFO "` + s256 + `" "x"`, "", "character-string of 256 octets"},
		{"naptr 256", `a IN NAPTR 1 1 "` + s256 + `" "" "" .`, "", "character-string of 256 octets"},
		{"txt 256 multi-line", "a IN TXT ( \"x\"\n \"" + s256 + "\" )", "", "character-string of 256 octets"},
		{"owner 256 octets", long + " IN A 127.0.0.1", "", "longer than 255 octets"},
		{"cname target 256 octets", "a IN CNAME " + long + ".", "", "longer than 255 octets"},
		{"mx target 256 octets", "a IN MX 10 " + long, "", "longer than 255 octets"},
		{"owner 255 octets", l63 + "." + l63 + "." + l63 + "." + strings.Repeat("a", 54) + " IN A 127.0.0.1", "", ""},
		{"label 64", strings.Repeat("a", 64) + " IN A 127.0.0.1", "", "bad owner name"},
		{"escape space", `a\032b IN A 127.0.0.1`, "", ""},
		{"escape 999", `a\999b IN A 127.0.0.1`, "named", `bad escape "\999"`},
		{"escape 256", `a\256 IN A 127.0.0.1`, "named", `bad escape "\256"`},
		{"escape two digits", `a\25 IN A 127.0.0.1`, "named", `bad escape "\25 "`},
		{"txt escape 999", `a IN TXT "a\999"`, "named", `bad escape "\999"`},
		{"two DNAMEs", "d IN DNAME x.test.\nd IN DNAME y.test.", "", "2 DNAME records"},
		{"CNAME and DNAME", "d IN DNAME x.test.\nd IN CNAME y.test.", "", "CNAME and DNAME"},
		{"CNAME and NS", "c IN CNAME x.test.\nc IN NS ns.x.test.", "", "CNAME and NS"},
	}
	dir := t.TempDir()
	lineRe := regexp.MustCompile(`zone:(\d+):`)
	for _, c := range cases {
		// Two lines of SOA before the record, so the line is not the first.
		text := "$ORIGIN t.test.\n$TTL 300\n@ IN SOA ns h (\n 1 2 3 4 5 )\n@ IN NS ns\nns IN A 127.0.0.1\n" + c.record + "\n"
		file := filepath.Join(dir, "t.zone")
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		nout, nerr := exec.CommandContext(ctx, nsd, "t.test", file).CombinedOutput()
		bout, berr := exec.CommandContext(ctx, named, "t.test", file).CombinedOutput()
		cancel()
		nsdOK, namedOK := nerr == nil, berr == nil
		var want bool // serve dns takes the file
		switch c.follow {
		case "":
			if nsdOK != namedOK {
				t.Errorf("%s: nsd-checkzone ok=%v, named-checkzone ok=%v: the case says they agree\n%s\n%s", c.name, nsdOK, namedOK, nout, bout)
				continue
			}
			want = nsdOK
		case "nsd":
			want = nsdOK
		case "named":
			want = namedOK
		}
		_, err := DNSLoadZoneFile(file, "")
		if want {
			if err != nil {
				t.Errorf("%s: serve dns refuses what the checkers take: %v", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: serve dns takes what the checkers refuse:\n%s%s", c.name, nout, bout)
			continue
		}
		// The line serve dns names is the one a checker that refuses names.
		var lines []string
		if !nsdOK {
			if m := lineRe.FindSubmatch(nout); m != nil {
				lines = append(lines, string(m[1]))
			}
		}
		if !namedOK {
			if m := lineRe.FindSubmatch(bout); m != nil {
				lines = append(lines, string(m[1]))
			}
		}
		got := regexp.MustCompile(`^` + regexp.QuoteMeta(file) + `:(\d+):`).FindStringSubmatch(err.Error())
		if got == nil || (len(lines) > 0 && !strings.Contains(" "+strings.Join(lines, " ")+" ", " "+got[1]+" ")) {
			t.Errorf("%s: error %q: want FILE:LINE: with the line the checkers name (%v)", c.name, err, lines)
		}
		if !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q, want one line with %q", c.name, err, c.msg)
		}
	}
}
