package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/faults"
	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

func newListCommand() *cobra.Command {
	var dir, platformName string
	var parameters bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List scenarios, fault kinds, topologies, runbook actions",
		Long: `List the scenario files in --dir (default "scenarios") with their
descriptions, the fault kinds and selectors, the built-in topologies and the
runbook actions. With --parameters, list every model parameter of the
platform (--platform sim, the default, or containers) with its default and
the documentation it comes from.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			defer w.Flush()
			if parameters {
				var list []platform.Parameter
				switch platformName {
				case "sim":
					list = simulator.Parameters()
				case "containers":
					list = containers.Parameters()
				default:
					return badInput(fmt.Errorf("--platform %q: want sim or containers", platformName))
				}
				fmt.Fprintln(w, "PARAMETER\tDEFAULT\tMEANING\tSOURCE")
				for _, p := range list {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.Name, p.Default, p.Description, p.Source)
				}
				return nil
			}
			files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
			if err != nil {
				return badInput(err)
			}
			if _, statErr := os.Stat(dir); statErr != nil {
				return badInput(fmt.Errorf("--dir %s: %w", dir, statErr))
			}
			sort.Strings(files)
			fmt.Fprintf(w, "SCENARIOS (%s)\t\n", dir)
			for _, f := range files {
				sc, err := scenarios.Load(f, scenarios.WithParameters(simulator.Parameters()))
				if err != nil {
					fmt.Fprintf(w, "  %s\tINVALID: run `chaosdrill validate %s`\n", filepath.Base(f), f)
					continue
				}
				fmt.Fprintf(w, "  %s\t%s\n", sc.Name, firstLine(sc.Description))
			}
			fmt.Fprintln(w, "\nFAULT KINDS\t")
			for _, k := range scenarios.FaultKinds {
				fmt.Fprintf(w, "  %s\t%s\n", k, faults.Describe(k))
			}
			fmt.Fprintln(w, "\nTARGETS\t")
			fmt.Fprintln(w, "  node:NAME\tone node")
			fmt.Fprintln(w, "  az:ZONE\tevery node in an availability zone")
			fmt.Fprintln(w, "  region:REGION\tevery node in a region, its S3 endpoint included")
			fmt.Fprintln(w, "  role:SERVICE:ROLE\twhoever holds the role when the fault fires (mongo: primary, secondary; elasticsearch: master)")
			fmt.Fprintln(w, "  service:NAME\tevery node of a service")
			fmt.Fprintln(w, "  between: [SEL, SEL]\tthe two sides of a partition")
			fmt.Fprintln(w, "\nTOPOLOGIES\t")
			for _, name := range platform.SortedKeys(platform.BuiltinTopologies()) {
				t := platform.BuiltinTopologies()[name]()
				var parts []string
				for _, s := range t.Services {
					parts = append(parts, fmt.Sprintf("%s (%s)", s.Name, s.Kind))
				}
				fmt.Fprintf(w, "  %s\t%d regions, %d nodes: %s\n", name, len(t.Regions), len(t.Nodes()), strings.Join(parts, ", "))
			}
			fmt.Fprintln(w, "\nRUNBOOK ACTIONS\t")
			for _, a := range platform.ActionCatalog() {
				fmt.Fprintf(w, "  %s\t%s\n", a.Name, a.Description)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "scenarios", "folder of scenario files")
	cmd.Flags().BoolVar(&parameters, "parameters", false, "list the model parameters instead")
	cmd.Flags().StringVar(&platformName, "platform", "sim", "whose parameters --parameters lists: sim or containers")
	return cmd
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
