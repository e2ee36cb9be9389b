package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestEchoServeUsage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"serve", "echo", "--chunk", "0"}, 2},
		{[]string{"serve", "echo", "a b"}, 2},
		{[]string{"serve", "echo", "127.0.0.1:99999"}, 2},
		{[]string{"serve", "echo", "127.0.0.1:1", "127.0.0.1:2"}, 2},
		{[]string{"serve", "echo", ln.Addr().String()}, 3}, // in use
	}
	for _, c := range cases {
		out, errs, code := runCLI(t, c.args...)
		if code != c.code || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "nettool: serve echo: ") {
			t.Errorf("%q: exit %d (want %d), stdout %q, stderr %q", c.args, code, c.code, out, errs)
		}
	}
}

func TestEchoServeJSONAndCtrlC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nettoolBinary(t), "serve", "echo", ":0", "--json", "--chunk", "4")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Type    string `json:"type"`
		Address string `json:"address"`
		Chunk   int    `json:"chunk"`
	}
	err := json.NewDecoder(stdout).Decode(&doc)
	if err != nil || doc.Type != "echo_listening" || doc.Chunk != 4 || !strings.HasPrefix(doc.Address, "127.0.0.1:") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("listening document %+v: %v", doc, err)
	}
	out, _, code := runCLI(t, "tcp", doc.Address, "--send", "0123456789", "-o", "jsonl")
	if code != 0 || !strings.Contains(out, `"text":"0123456789"`) {
		t.Errorf("echo: exit %d\n%s", code, out)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("Ctrl-C: %v (want exit 0)", err)
	}
}
