package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

func newValidateCommand() *cobra.Command {
	var platformName string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files without running them",
		Long: `Check each scenario file: YAML syntax, known fields and types, targets that
exist in the topology, times (and heals) inside the scenario, after_event
triggers on events the service emits (chaosdrill list events), runbook actions
and their parameters, expectations that can be measured, names (` + scenarios.NameCharacters + `),
every model parameter's type and range (chaosdrill list --parameters), and the
work the file asks for against the documented limits (writes, durations,
periods, shards, members, nodes: see the README). With --platform containers,
also the parameters of the live platform, and node names that would make the
same container name.

Every file is checked and reported, whatever the others hold: a folder, a
missing file or a FIFO is reported and the next file checked. Every problem
is printed as FILE:LINE:COLUMN: FIELD: MESSAGE, with a did-you-mean for a
likely typo. Nothing is written. Exit code 2 if any file is bad.`,
		Args: argsError(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			known, err := parametersOf(platformName)
			if err != nil {
				return err
			}
			bad := 0
			for _, path := range args {
				if err := enterPhase(ctx, phaseLoad); err != nil {
					return err
				}
				sc, err := loadScenario(ctx, path, known, platformName)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					bad++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "ok  %s (%s)\n", path, sc.Name)
			}
			if bad > 0 {
				return &exitError{code: exitBadInput, err: fmt.Errorf("%d of %d %s", bad, len(args), pluralWord(bad, "file is not a valid scenario", "files are not valid scenarios"))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&platformName, "platform", "sim", "whose parameters and naming rules to check against: sim or containers")
	return cmd
}
