package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
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
runbook actions with their parameters (required or optional). With --parameters, list every model parameter of the
platform (--platform sim, the default, or containers) with its default and
the documentation it comes from.

  chaosdrill list events          every event each kind of service emits
  chaosdrill list topology ion    the nodes of a topology and where they run`,
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
				fmt.Fprintln(w, "PARAMETER\tDEFAULT\tRANGE\tMEANING\tSOURCE")
				for _, p := range list {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Default, describeRange(p), p.Description, p.Source)
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
				if params := actionParams(a); params != "" {
					fmt.Fprintf(w, "  \t  params: %s\n", params)
				}
			}
			fmt.Fprintln(w, "\nMORE\t")
			fmt.Fprintln(w, "  chaosdrill list events\tthe events a trigger (after_event) can wait for")
			fmt.Fprintln(w, "  chaosdrill list topology NAME\tnodes, zones, regions, roles, priorities, votes")
			return nil
		},
	}
	cmd.AddCommand(newListEventsCommand(), newListTopologyCommand())
	cmd.Flags().StringVar(&dir, "dir", "scenarios", "folder of scenario files")
	cmd.Flags().BoolVar(&parameters, "parameters", false, "list the model parameters instead")
	cmd.Flags().StringVar(&platformName, "platform", "sim", "whose parameters --parameters lists: sim or containers")
	return cmd
}

// actionParams names an action's parameters, the required ones first:
// "promote (required), service (optional)".
func actionParams(a platform.ActionInfo) string {
	var required, optional []string
	for _, name := range platform.SortedKeys(a.Params) {
		if slices.Contains(a.Required, name) {
			required = append(required, name+" (required)")
		} else {
			optional = append(optional, name+" (optional)")
		}
	}
	return strings.Join(append(required, optional...), ", ")
}

// describeRange says what values a parameter takes: "1ms..168h0m0s",
// "true|false", or "any" for free text.
func describeRange(p platform.Parameter) string {
	if p.ValueKind() == platform.ParamBool {
		return "true|false"
	}
	lowest, highest := p.Range()
	if lowest == "" && highest == "" {
		return "any"
	}
	return lowest + ".." + highest
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// serviceKinds are the kinds of service a topology places, in the order
// the lists show them.
var serviceKinds = []string{platform.KindMongo, platform.KindElastic, platform.KindS3}

func newListEventsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "events",
		Short: "List the events each kind of service emits",
		Long: `List every event each kind of service emits, with what it means: the words a
fault or runbook step waits for with after_event: SERVICE:EVENT, where SERVICE
is the name of a service of the scenario's topology (in ion: mongo, logs,
artifacts). validate refuses an event the service's kind does not emit.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			defer w.Flush()
			ion := platform.Ion()
			for i, kind := range serviceKinds {
				if i > 0 {
					fmt.Fprintln(w)
				}
				heading := strings.ToUpper(kind)
				if svc, ok := ion.ServiceOfKind(kind); ok {
					heading += fmt.Sprintf(" (in ion: after_event: %s:EVENT)", svc.Name)
				}
				fmt.Fprintln(w, heading)
				for _, e := range platform.EventCatalog(kind) {
					fmt.Fprintf(w, "  %s\t%s\n", e.What, e.Meaning)
				}
			}
			return nil
		},
	}
}

func newListTopologyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "topology [NAME | SCENARIO.yaml]",
		Short: "Show a topology's regions, zones and nodes",
		Long: `Show a built-in topology (default: every one), or the topology of a scenario
file: its regions and zones, link latencies, services, and every node with
its service, region, zone and replica-set settings (priority, votes, hidden),
and the roles a fault can aim at.`,
		Args: argsError(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			builtins := platform.BuiltinTopologies()
			var topologies []*platform.Topology
			switch {
			case len(args) == 0:
				for _, name := range platform.SortedKeys(builtins) {
					topologies = append(topologies, builtins[name]())
				}
			case builtins[args[0]] != nil:
				topologies = append(topologies, builtins[args[0]]())
			case strings.HasSuffix(args[0], ".yaml") || strings.HasSuffix(args[0], ".yml"):
				sc, err := scenarios.Load(args[0])
				if err != nil {
					return badInput(err)
				}
				topologies = append(topologies, sc.Topology.Resolved)
			default:
				names := platform.SortedKeys(builtins)
				return badInput(fmt.Errorf("no built-in topology %q (built-in: %s; or give a scenario file)", args[0], strings.Join(names, ", ")))
			}
			for i, t := range topologies {
				if i > 0 {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				writeTopology(cmd.OutOrStdout(), t)
			}
			return nil
		},
	}
}

// writeTopology prints one topology for a scenario author.
func writeTopology(out io.Writer, t *platform.Topology) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "TOPOLOGY %s\n", t.Name)
	fmt.Fprintln(w, "REGIONS")
	for _, r := range t.Regions {
		fmt.Fprintf(w, "  %s\tzones %s\n", r.Name, strings.Join(r.Zones, ", "))
	}
	l := t.EffectiveLatency()
	fmt.Fprintf(w, "LINK LATENCY (one way): intra-zone %s, inter-zone %s, inter-region %s\n", l.IntraZone, l.InterZone, l.InterRegion)
	fmt.Fprintln(w, "SERVICES")
	var roles []string
	for _, s := range t.Services {
		fmt.Fprintf(w, "  %s\t%s\n", s.Name, describeService(s))
		for _, role := range platform.Roles[s.Kind] {
			roles = append(roles, fmt.Sprintf("role:%s:%s", s.Name, role))
		}
	}
	if len(roles) > 0 {
		fmt.Fprintf(w, "ROLES (resolved when a fault fires): %s\n", strings.Join(roles, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "NODE\tSERVICE\tREGION\tZONE\tROLE\tPRIORITY\tVOTES\tHIDDEN")
	for _, s := range t.Services {
		switch s.Kind {
		case platform.KindMongo:
			for _, m := range s.Members {
				region, _ := t.RegionOfZone(m.Zone)
				role := "electable member"
				if m.Priority == 0 {
					role = "never primary (priority 0)"
				}
				hidden := "no"
				if m.Hidden {
					hidden = "yes"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", m.Name, s.Name, region, m.Zone, role,
					strconv.FormatFloat(m.Priority, 'g', -1, 64), m.VoteCount(), hidden)
			}
		case platform.KindElastic:
			for _, n := range s.Nodes {
				region, _ := t.RegionOfZone(n.Zone)
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t-\t-\t-\n", n.Name, s.Name, region, n.Zone, "master-eligible data node")
			}
		case platform.KindS3:
			for _, e := range s.Endpoints {
				role := "endpoint, sync destination"
				if e.Region == s.PrimaryRegion {
					role = "endpoint, primary region"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t-\t%s\t-\t-\t-\n", e.Name, s.Name, e.Region, role)
			}
		}
	}
}

// describeService sums up a service's kind-specific settings.
func describeService(s platform.ServiceSpec) string {
	switch s.Kind {
	case platform.KindMongo:
		text := fmt.Sprintf("mongo replica set %s, %d members", s.ReplicaSet, len(s.Members))
		for _, mode := range platform.SortedKeys(s.WriteModes) {
			var tags []string
			for _, tag := range platform.SortedKeys(s.WriteModes[mode]) {
				tags = append(tags, fmt.Sprintf("%s: %d", tag, s.WriteModes[mode][tag]))
			}
			text += fmt.Sprintf("; write mode %s {%s}", mode, strings.Join(tags, ", "))
		}
		return text
	case platform.KindElastic:
		text := fmt.Sprintf("elasticsearch, %d nodes, %d primary shards, replicas: %d", len(s.Nodes), s.Shards, s.Replicas)
		if s.SnapshotTo != "" {
			text += fmt.Sprintf("; snapshots every %s to %s", s.SnapshotInterval, s.SnapshotTo)
		}
		return text
	case platform.KindS3:
		return fmt.Sprintf("s3, %d endpoints, primary region %s, synced every %s", len(s.Endpoints), s.PrimaryRegion, s.SyncInterval)
	}
	return s.Kind
}
