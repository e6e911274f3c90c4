package main

import "github.com/spf13/cobra"

func newSweepCommand() *cobra.Command {
	return &cobra.Command{Use: "sweep", Hidden: true, RunE: func(*cobra.Command, []string) error { return nil }}
}
