package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// FuzzCommandLine checks the CLI's argument and flag handling: any command
// line gives one of the four exit codes and never a panic. It runs with an
// interrupted context, so that no command gets past its first phase:
// nothing is simulated, written or sent to Docker (which is pointed at a
// port where nothing listens, for cleanup).
func FuzzCommandLine(f *testing.F) {
	os.Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
	for _, line := range []string{
		"run\x00../../scenarios/es-node-kill.yaml\x00--seed\x00-1",
		"sweep\x00x.yaml\x00--seeds\x0018446744073709551615\x00--from\x0018446744073709551615",
		"sweep\x00x.yaml\x00--workers\x000",
		"validate\x00--platform\x00containers\x00a.yaml\x00b.yaml",
		"report\x00--out\x00\x00x.json",
		"run\x00--dry-run\x00--platform\x00vmware\x00x.yaml",
		"list\x00--parameters\x00--platform\x00containers",
		"list\x00topology\x00iom",
		"runn",
		"--version",
		"help\x00run",
		"run\x00--seed=\x00--out=/proc/x",
	} {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		args := strings.Split(string(data), "\x00")
		if len(args) > 0 && (args[0] == "list" || args[0] == "completion") && len(data) > 200 {
			return // listing a large folder or writing completions is slow and checks nothing more
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var stdout, stderr bytes.Buffer
		code := executeContext(ctx, args, &stdout, &stderr)
		if code < exitPass || code > exitEnvironment {
			t.Fatalf("exit code %d for %q", code, args)
		}
	})
}
