package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the module version and VCS commit",
		Long: `Print chaosdrill's module version and the VCS commit it was built from, as
the Go toolchain stamped them into the binary. A binary built from a work tree
says "devel"; one built without VCS information (go run, go test, or with
-buildvcs=false) says the commit is unknown. Same as --version.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionText())
			return nil
		},
	}
}

// versionText is "chaosdrill VERSION (commit COMMIT[, modified], GOVERSION)"
// from the build information the Go toolchain stamps into the binary.
func versionText() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Sprintf("chaosdrill devel (commit unknown, %s)", runtime.Version())
	}
	return describeBuild(info)
}

// describeBuild words a binary's build information: the module version
// ("devel" for a build from a work tree, which Go marks "(devel)"), the
// vcs.revision setting (shortened) and whether the tree was modified.
func describeBuild(info *debug.BuildInfo) string {
	version := info.Main.Version
	if version == "" || version == "(devel)" {
		version = "devel"
	}
	commit, modified := "unknown", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
			if len(commit) > 12 {
				commit = commit[:12]
			}
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	goVersion := info.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	return fmt.Sprintf("chaosdrill %s (commit %s%s, %s)", version, commit, modified, goVersion)
}
