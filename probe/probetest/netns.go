package probetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Netns is a network namespace made by one test and deleted when it ends.
// Tests that need hosts and routers build them from these and veth pairs, so
// nothing they send can reach the machine's own interfaces.
type Netns struct {
	t    testing.TB
	ip   string
	Name string
}

// NewNetns creates a namespace named after role (unique per process and
// call, so tests and parallel runs never collide), with loopback up, IPv6
// duplicate address detection off (tentative addresses stall the first
// packets for about a second) and ICMP rate limiting off (a router that
// rate-limits time-exceeded makes a fast trace look lossy). It fails or
// skips the test, as Unavailable does, without root.
func NewNetns(t testing.TB, role string) *Netns {
	t.Helper()
	RequireRoot(t, "network namespaces")
	ip := LookPeer(t, "ip")
	name := fmt.Sprintf("nt-%s-%d-%06x", role, os.Getpid(), rand.IntN(1<<24))
	if out, err := exec.Command(ip, "netns", "add", name).CombinedOutput(); err != nil {
		Unavailable(t, fmt.Sprintf("cannot create network namespace %s: %v %s", name, err, strings.TrimSpace(string(out))))
	}
	// Deleting a namespace removes its veth ends with it.
	t.Cleanup(func() { _ = exec.Command(ip, "netns", "del", name).Run() })
	n := &Netns{t: t, ip: ip, Name: name}
	n.Sysctl(
		"net.ipv6.conf.all.accept_dad=0",
		"net.ipv6.conf.default.accept_dad=0",
		"net.ipv4.icmp_ratelimit=0",
		"net.ipv6.icmp.ratelimit=0",
	)
	n.IP("link", "set", "lo", "up")
	return n
}

// IP runs `ip -n NAME ARGS...` and returns its output; a failure fails the test.
func (n *Netns) IP(args ...string) string {
	n.t.Helper()
	return n.run(n.ip, append([]string{"-n", n.Name}, args...)...)
}

// Run runs a command inside the namespace and returns its combined output; a
// failure fails the test.
func (n *Netns) Run(name string, args ...string) string {
	n.t.Helper()
	return n.run(n.ip, append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Sysctl sets each KEY=VALUE inside the namespace.
func (n *Netns) Sysctl(settings ...string) {
	n.t.Helper()
	for _, s := range settings {
		n.Run("sysctl", "-q", "-w", s)
	}
}

// Command returns a command that runs inside the namespace, ended when ctx is.
func (n *Netns) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, n.ip, append([]string{"netns", "exec", n.Name, name}, args...)...)
}

func (n *Netns) run(name string, args ...string) string {
	n.t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Veth joins two namespaces with a veth pair, aIf in a and bIf in b, both up.
// Interface names are per namespace, so the same names can be used in every
// pair of a test.
func Veth(t testing.TB, a *Netns, aIf string, b *Netns, bIf string) {
	t.Helper()
	a.run(a.ip, "link", "add", aIf, "netns", a.Name, "type", "veth", "peer", "name", bIf, "netns", b.Name)
	a.IP("link", "set", aIf, "up")
	b.IP("link", "set", bIf, "up")
}
