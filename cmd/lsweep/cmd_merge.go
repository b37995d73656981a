package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/sweep"
)

func newMergeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "merge OUT",
		Short: "Combine the shards of a run into OUT/surface.npz",
		Long: `Combine the shard files (shard-I-of-N.npz) that "lsweep run --shard I/N" or a
launcher wrote into OUT, into OUT/surface.npz. Shards of a different run (a
different manifest) or of a different shard count are refused. Points no shard
computed stay masked out, and merge says how many.` + "\n" + exitStatusHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := sweep.Merge(args[0])
			if err != nil {
				return err
			}
			done := 0
			for _, m := range s.Mask {
				if m {
					done++
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "merged %d of %d points into %s\n", done, s.Grid.Len(), filepath.Join(args[0], "surface.npz"))
			if done < s.Grid.Len() {
				fmt.Fprintf(cmd.ErrOrStderr(), "lsweep: warning: %d points are missing; run the missing shards, then merge again\n", s.Grid.Len()-done)
			}
			return nil
		},
	}
}
