package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files without running them",
		Long: `Check each scenario file: YAML syntax, known fields and types, targets that
exist in the topology, times (and heals) inside the scenario, after_event
triggers on events the service emits (chaosdrill list events), runbook actions
and their parameters, expectations that can be measured. Every problem is
printed as FILE:LINE:COLUMN: FIELD: MESSAGE, with a did-you-mean for a likely
typo. Nothing is written. Exit code 2 if any file is bad.`,
		Args: argsError(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, path := range args {
				sc, err := scenarios.Load(path, scenarios.WithParameters(simulator.Parameters()))
				if err != nil {
					bad++
					var se *scenarios.Error
					if !errors.As(err, &se) {
						return badInput(err)
					}
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "ok  %s (%s)\n", path, sc.Name)
			}
			if bad > 0 {
				return &exitError{code: exitBadInput, err: fmt.Errorf("%d of %d files are not valid scenarios", bad, len(args))}
			}
			return nil
		},
	}
}
