package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
	"github.com/chaosdrill/chaosdrill/runner"
)

// Environment variables of the live platform the CLI reads, beside
// containers.ImagesVariable, containers.MemoryProfileVariable and
// containers.LinkLatencyVariable.
const (
	// pullVariable set to "never" makes a missing image an environment
	// failure at once instead of a pull (air-gapped machines, CI that
	// pre-pulls).
	pullVariable = "CHAOSDRILL_PULL"
)

// containersPlatform builds the live platform. Docker is checked up front so
// that a run without it exits 3 before anything else happens.
func containersPlatform(ctx context.Context) (runner.Builder, []platform.Parameter, error) {
	if err := docker.IsReachable(ctx); err != nil {
		return nil, nil, environment(err)
	}
	opts, err := liveOptions(ctx)
	if err != nil {
		return nil, nil, err
	}
	return func(cfg platform.Config) (platform.Platform, error) { return containers.New(cfg, opts...) }, containers.Parameters(), nil
}

// liveOptions are the live platform's options from the environment and the
// command line: images (the scenario's images: block, then
// CHAOSDRILL_IMAGES, then --image), the memory profile, link latencies, and
// whether to pull. A bad value is bad input.
func liveOptions(ctx context.Context) ([]containers.Option, error) {
	var opts []containers.Option
	fromEnvironment, err := containers.ImagesFromEnvironment()
	if err != nil {
		return nil, badInput(err)
	}
	opts = append(opts, containers.WithImages(fromEnvironment))
	if fromFlags, ok := ctx.Value(imagesKey{}).(containers.Images); ok {
		opts = append(opts, containers.WithImages(fromFlags))
	}
	profile, err := containers.MemoryProfileNamed(strings.TrimSpace(os.Getenv(containers.MemoryProfileVariable)))
	if err != nil {
		return nil, badInput(fmt.Errorf("%s: %w", containers.MemoryProfileVariable, err))
	}
	opts = append(opts, containers.WithMemoryProfile(profile))
	switch value := strings.TrimSpace(os.Getenv(containers.LinkLatencyVariable)); value {
	case "", "on":
	case "off":
		opts = append(opts, containers.WithoutLinkLatency())
	default:
		return nil, badInput(fmt.Errorf("%s=%q: want on or off", containers.LinkLatencyVariable, value))
	}
	switch value := strings.TrimSpace(os.Getenv(pullVariable)); value {
	case "", "missing":
	case "never":
		opts = append(opts, containers.WithoutPull())
	default:
		return nil, badInput(fmt.Errorf("%s=%q: want missing (the default) or never", pullVariable, value))
	}
	return opts, nil
}

// imagesKey carries the --image overrides from flag parsing to the platform.
type imagesKey struct{}

// imageFlagsKey carries the --image flags as given, for the line that
// reproduces a run.
type imageFlagsKey struct{}

// imageFlags are the --image flags of the command line, as given, each
// written " --image KIND=REF".
func imageFlags(ctx context.Context) string {
	overrides, _ := ctx.Value(imageFlagsKey{}).([]string)
	var b strings.Builder
	for _, o := range overrides {
		b.WriteString(" --image " + o)
	}
	return b.String()
}

// addImageFlag gives cmd the repeatable --image KIND=REF flag; what it
// holds reaches containersPlatform through the command's context.
func addImageFlag(cmd *cobra.Command) {
	var overrides []string
	cmd.Flags().StringArrayVar(&overrides, "image", nil,
		"container image for a service kind on --platform containers, KIND=REF from any registry (kinds: "+strings.Join(containers.ImageKinds, ", ")+"); repeatable; wins over "+containers.ImagesVariable+" and the scenario's images:")
	before := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		images, err := containers.ParseImages(overrides)
		if err != nil {
			return badInput(fmt.Errorf("--image: %w", err))
		}
		ctx := context.WithValue(c.Context(), imagesKey{}, images)
		c.SetContext(context.WithValue(ctx, imageFlagsKey{}, overrides))
		if before != nil {
			return before(c, args)
		}
		return nil
	}
}

func newCleanupCommand() *cobra.Command {
	var opts docker.CleanupOptions
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove what live runs whose harness died left behind",
		Long: `Remove the containers, networks, volumes and disk-fault data volumes of
live runs whose harness was killed before it could clean up (or only those
of --run ID). A run that ends, fails or is interrupted cleans up by itself.

Each run's resources are labelled with the process that created them (host,
PID and start time). Only runs whose process has ended are removed: a run
still going on this machine, a run whose process is on another host sharing
the Docker daemon, and a run of an older chaosdrill (no owner labels) are
kept and listed, so that cleaning up never stops another run mid-way. --all
removes them too. When nothing carries the run id (or no run left anything),
it says so and exits 0: there is nothing to clean up.
Exit code 3 if Docker is not reachable.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			// --run "" (an unset variable in a script) must not widen the
			// clean-up to every dead run.
			if cmd.Flags().Changed("run") && strings.TrimSpace(opts.Run) == "" {
				return badInput(fmt.Errorf("--run is empty: give a run id, or leave --run out to clean up every dead run"))
			}
			removed, err := docker.Cleanup(cmd.Context(), opts)
			out := cmd.OutOrStdout()
			some := removed.Containers+removed.Networks+removed.Volumes+removed.Disks > 0
			switch {
			case err != nil && !some:
				// Nothing was removed because nothing could be looked
				// at: the error says why, and "removed 0" would read as
				// "nothing was left".
			case some || len(removed.Kept) > 0:
				fmt.Fprintf(out, "removed %d containers, %d networks, %d volumes, %d disk-fault volumes\n", removed.Containers, removed.Networks, removed.Volumes, removed.Disks)
			case opts.Run != "":
				fmt.Fprintf(out, "nothing to remove: no container, network or volume carries run id %q (label chaosdrill.run)\n", opts.Run)
			default:
				fmt.Fprintln(out, "nothing to remove: no container, network or volume of a chaosdrill run is left")
			}
			for _, kept := range removed.Kept {
				fmt.Fprintf(out, "kept run %s: %s (--all removes it)\n", kept.Run, kept.Why)
			}
			if err != nil {
				return environment(err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Run, "run", "", "only this run id (default: every chaosdrill run)")
	cmd.Flags().BoolVar(&opts.All, "all", false, "also remove runs whose harness may still be running (it stops them mid-way)")
	return cmd
}

// randomSuffix makes live run ids unique; it is not part of any simulated
// result, so crypto randomness is fine here.
func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
