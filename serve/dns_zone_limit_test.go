package serve

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dnsEndless is an endless zone text: one token that never ends.
type dnsEndless struct{}

func (dnsEndless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// An endless zone (/dev/zero, a $INCLUDE of it, an endless reader) stops at
// the size cap with one clear error; it used to be read whole into memory
// (24 GB and the OOM killer for --zone /dev/zero).
func TestDNSZoneSizeCap(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err == nil {
		// A 1 MiB cap here: the real one (64 MiB) takes long under -race.
		_, err := dnsLoadZoneFile("/dev/zero", "zero.test", 1<<20)
		if err == nil || !strings.Contains(err.Error(), "/dev/zero: zone text larger than 1 MiB") {
			t.Fatalf("/dev/zero: %v", err)
		}
		dir := t.TempDir()
		main := filepath.Join(dir, "main.zone")
		if err := os.WriteFile(main, []byte("$ORIGIN inc.test.\n@ SOA ns h 1 2 3 4 5\n$INCLUDE /dev/zero\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := dnsLoadZoneFile(main, "", 1<<20); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB, $INCLUDE files included") {
			t.Fatalf("$INCLUDE /dev/zero: %v", err)
		}
	}
	b := &dnsZoneBudget{left: 1 << 20, max: 1 << 20}
	r := &dnsBudgetReader{r: io.MultiReader(strings.NewReader("$ORIGIN x.test.\n@ TXT "), dnsEndless{}), b: b}
	_, err := dnsParseZone(dnsZoneSource{r: r, name: "endless"}, "", "endless", dnsMaxZoneRecords)
	if err == nil || !strings.Contains(err.Error(), "endless: zone text larger than 1 MiB") {
		t.Fatalf("endless reader: %v", err)
	}
}

// Errors keep naming files as the user wrote them: the top file by its
// relative name, an included file by its path.
func TestDNSZoneIncludeErrorNames(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("z", 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile("z/bad.inc", []byte("www A not-an-address\n"), 0o644)
	os.WriteFile("z/good.inc", []byte("www A 127.0.0.1\n"), 0o644)
	os.WriteFile("z/main.zone", []byte("$ORIGIN inc.test.\n@ SOA ns h 1 2 3 4 5\n$INCLUDE good.inc\n"), 0o644)
	if z, err := DNSLoadZoneFile("z/main.zone", ""); err != nil || z.node("www.inc.test.") == nil || z.File() != "z/main.zone" {
		t.Fatalf("relative $INCLUDE: %v", err)
	}
	os.WriteFile("z/main.zone", []byte("$ORIGIN inc.test.\n@ SOA ns h 1 2 3 4 5\n$INCLUDE bad.inc\n"), 0o644)
	_, err := DNSLoadZoneFile("z/main.zone", "")
	abs, _ := filepath.Abs("z/bad.inc")
	if err == nil || !strings.HasPrefix(err.Error(), abs+":1:") {
		t.Fatalf("error in an included file: %v", err)
	}
	os.WriteFile("z/main.zone", []byte("$ORIGIN inc.test.\n@ SOA ns h 1 2 3 4 5\nwww A nope\n"), 0o644)
	if _, err := DNSLoadZoneFile("z/main.zone", ""); err == nil || !strings.HasPrefix(err.Error(), "z/main.zone:3:") {
		t.Fatalf("error in the top file: %v", err)
	}
	os.WriteFile("z/main.zone", []byte("$ORIGIN inc.test.\n@ SOA ns h 1 2 3 4 5\n$INCLUDE missing.inc\n"), 0o644)
	if _, err := DNSLoadZoneFile("z/main.zone", ""); err == nil || !strings.HasPrefix(err.Error(), "z/main.zone:3:") || !strings.Contains(err.Error(), "missing.inc") {
		t.Fatalf("missing include: %v", err)
	}
}
