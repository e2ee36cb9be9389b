package tcp

import (
	"bufio"
	_ "embed"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
)

//go:embed services.txt
var builtinServices string

var (
	servicesOnce sync.Once
	services     map[int]string
)

// servicesFile is read when it exists; the built-in table fills the gaps.
var servicesFile = "/etc/services"

// ServiceName returns the usual name of a TCP port ("ssh" for 22), or "" when
// neither /etc/services (when it exists) nor the built-in table knows it.
func ServiceName(port int) string {
	servicesOnce.Do(loadServices)
	return services[port]
}

func loadServices() {
	services = make(map[int]string, 512)
	parseServices(strings.NewReader(builtinServices), services)
	if f, err := os.Open(servicesFile); err == nil {
		defer f.Close()
		// The system file wins where both know a port.
		parseServices(io.LimitReader(f, 4<<20), services)
	}
}

// parseServices reads /etc/services syntax ("name port/proto aliases #
// comment") and the built-in "port name" syntax, keeping TCP entries. The
// first name given for a port in a source wins.
func parseServices(r io.Reader, into map[int]string) {
	seen := map[int]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		var name, portStr string
		if p, ok := strings.CutSuffix(f[1], "/tcp"); ok {
			name, portStr = f[0], p
		} else if strings.Contains(f[1], "/") {
			continue // another protocol
		} else {
			portStr, name = f[0], f[1]
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port < 1 || port > 65535 || name == "" || len(name) > 64 || seen[port] {
			continue
		}
		seen[port] = true
		into[port] = name
	}
}
