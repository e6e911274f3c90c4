package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
	"github.com/chaosdrill/chaosdrill/runner"
)

// containersPlatform builds the live platform. Docker is checked up front so
// that a run without it exits 3 before anything else happens.
func containersPlatform(ctx context.Context) (runner.Builder, []platform.Parameter, error) {
	if err := docker.IsReachable(ctx); err != nil {
		return nil, nil, environment(err)
	}
	return func(cfg platform.Config) (platform.Platform, error) { return containers.New(cfg) }, containers.Parameters(), nil
}

func newCleanupCommand() *cobra.Command {
	var run string
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove what earlier live runs left behind",
		Long: `Remove every container, network and volume labelled chaosdrill.run (or only
those of --run ID): what a live run that was killed before it could clean up
left behind. A run that ends, fails or is interrupted cleans up by itself.
Exit code 3 if Docker is not reachable.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			removed, err := docker.Cleanup(cmd.Context(), run)
			if err != nil {
				return environment(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d containers, %d networks, %d volumes\n", removed.Containers, removed.Networks, removed.Volumes)
			return nil
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "only this run id (default: every chaosdrill run)")
	return cmd
}

// randomSuffix makes live run ids unique; it is not part of any simulated
// result, so crypto randomness is fine here.
func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
