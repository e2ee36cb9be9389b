package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

func init() { registerDemo(250, "trace: the routers on the way, hop by hop", traceDemoStep) }

// traceDemoStep builds a small network of its own (a client, two routers
// and a server in network namespaces; the second router never says "time
// exceeded") and traces across it. Without root or ip(8) it says why in one
// line and goes on.
func traceDemoStep(ctx context.Context, d *demo) error {
	d.say("trace sends probes with a growing TTL (time to live): each router on the way lowers it,")
	d.say("and the one that takes it to zero drops the probe and answers \"time exceeded\", so the")
	d.say("routers show themselves one by one. Here: a client, two routers and a server in network")
	d.say("namespaces built for the demo; the second router stays silent, a `*` hop.")
	exe, err := os.Executable()
	switch {
	case err != nil || strings.HasSuffix(exe, ".test"):
		d.say("Skipped here: not running from the nettool binary.")
		return nil
	case os.Geteuid() != 0:
		d.say("Skipped here: building the demo network needs root (network namespaces).")
		return nil
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		d.say("Skipped here: ip(8) (iproute2) is not installed.")
		return nil
	}
	net, err := newDemoNet(ctx, ip, exe)
	if net != nil {
		defer net.close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.say("Skipped here: cannot build the demo network: %v", err)
		return nil
	}
	fmt.Fprintf(d.out, "\n$ nettool trace -n %s\n", demoTraceDst)
	args := append([]string{"netns", "exec", net.ns[0], exe, "trace", "-n", demoTraceDst}, d.extra...)
	cmd := exec.CommandContext(ctx, ip, args...)
	cmd.Stdout, cmd.Stderr = d.e.stdout, d.e.stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("`nettool trace -n %s`: %v", demoTraceDst, err)
	}
	return nil
}

const demoTraceDst = "198.51.100.10"

type demoNet struct {
	ip string
	ns []string // client, r1, r2, server
}

// newDemoNet builds client - r1 - r2 - server: link i is 198.51.100.4i+1
// and .4i+2 (/30), the server is 198.51.100.10.
func newDemoNet(ctx context.Context, ip, exe string) (*demoNet, error) {
	n := &demoNet{ip: ip}
	for _, role := range []string{"c", "r1", "r2", "s"} {
		name := fmt.Sprintf("nettool-demo-%d-%s", os.Getpid(), role)
		if out, err := exec.CommandContext(ctx, ip, "netns", "add", name).CombinedOutput(); err != nil {
			return n, errors.New(strings.TrimSpace(string(out)))
		}
		n.ns = append(n.ns, name)
	}
	var cmds [4]strings.Builder
	var top strings.Builder
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&top, "link add right netns %s type veth peer name left netns %s\n", n.ns[i], n.ns[i+1])
		fmt.Fprintf(&cmds[i], "addr add 198.51.100.%d/30 dev right\nlink set right up\n", 4*i+1)
		fmt.Fprintf(&cmds[i+1], "addr add 198.51.100.%d/30 dev left\nlink set left up\n", 4*i+2)
	}
	cmds[0].WriteString("route add default via 198.51.100.2\n")
	cmds[1].WriteString("route add 198.51.100.8/30 via 198.51.100.6\n")
	cmds[2].WriteString("route add 198.51.100.0/30 via 198.51.100.5\n")
	cmds[3].WriteString("route add default via 198.51.100.9\n")
	if err := n.batch(ctx, "", top.String()); err != nil {
		return n, err
	}
	for i, ns := range n.ns {
		if err := n.batch(ctx, ns, "link set lo up\n"+cmds[i].String()); err != nil {
			return n, err
		}
		if i == 1 || i == 2 {
			if out, err := exec.CommandContext(ctx, ip, "netns", "exec", ns, "sysctl", "-q", "-w",
				"net.ipv4.ip_forward=1", "net.ipv4.icmp_ratelimit=0").CombinedOutput(); err != nil {
				return n, fmt.Errorf("sysctl: %v %s", err, strings.TrimSpace(string(out)))
			}
		}
	}
	// The silent router: it drops the time exceeded it would send.
	nft, err := exec.LookPath("nft")
	if err == nil {
		cmd := exec.CommandContext(ctx, ip, "netns", "exec", n.ns[2], nft, "-f", "-")
		cmd.Stdin = strings.NewReader("table ip demo {\n\tchain out {\n\t\ttype filter hook output priority 0;\n\t\ticmp type time-exceeded drop\n\t}\n}\n")
		_ = cmd.Run()
	}
	// Wait (bounded) until the path is up.
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := exec.CommandContext(ctx, ip, "netns", "exec", n.ns[0], exe, "ping", "-c", "1", "-W", "1", "-q", demoTraceDst).CombinedOutput()
		if err == nil {
			return n, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return n, fmt.Errorf("the path does not answer: %s", strings.TrimSpace(string(out)))
		}
	}
}

func (n *demoNet) batch(ctx context.Context, ns, cmds string) error {
	args := []string{"-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	cmd := exec.CommandContext(ctx, n.ip, args...)
	cmd.Stdin = strings.NewReader(cmds)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ip: %v %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// close deletes the namespaces (and with them the veth pairs).
func (n *demoNet) close() {
	for _, ns := range n.ns {
		_ = exec.Command(n.ip, "netns", "del", ns).Run()
	}
}
