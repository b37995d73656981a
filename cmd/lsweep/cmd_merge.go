package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/sweep"
)

func newMergeCommand() *cobra.Command {
	var (
		noPlot bool
		po     plotOptions
	)
	cmd := &cobra.Command{
		Use:   "merge OUT",
		Short: "Combine the shards of a run into OUT/surface.npz",
		Long: `Combine the shard files (shard-I-of-N.npz) that "lsweep run --shard I/N" or a
launcher wrote into OUT, into OUT/surface.npz. Shards of a different run (a
different manifest) or of a different shard count are refused. Points no shard
computed stay masked out, and merge says how many. Then it draws the pictures
and report.html as lsweep plot does (--no-plot skips them).` + "\n" + exitStatusHelp,
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
			if noPlot {
				return nil
			}
			if err := po.check(); err != nil {
				return err
			}
			d, err := drawRun(args[0], nil, po)
			if err != nil {
				return err
			}
			for _, f := range d.files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noPlot, "no-plot", false, "do not draw the pictures and report.html")
	po.AddFlags(cmd.Flags())
	return cmd
}
