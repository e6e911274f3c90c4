package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/runner"
)

// containersPlatform is wired in once the live platform lands.
func containersPlatform() (runner.Builder, []platform.Parameter, error) {
	return nil, nil, environment(fmt.Errorf("%w: the containers platform is not built into this binary yet", platform.ErrEnvironment))
}

func newCleanupCommand() *cobra.Command {
	return &cobra.Command{Use: "cleanup", Short: "Remove what earlier live runs left behind", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return nil }}
}

// randomSuffix makes live run ids unique; it is not part of any simulated
// result, so crypto randomness is fine here.
func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
