package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/pipeline"
	"github.com/lsweep/lsweep/sweep"
)

func newMergeCommand() *cobra.Command {
	var (
		noPlot bool
		pf     plotFlags
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
			var po *pipeline.PlotOptions
			if !noPlot {
				var err error
				if po, err = pf.options(); err != nil {
					return err
				}
			}
			s, files, err := pipeline.Merge(args[0], po)
			if s != nil {
				done := s.Count()
				fmt.Fprintf(cmd.OutOrStdout(), "merged %d of %d points into %s\n", done, s.Grid.Len(), filepath.Join(args[0], sweep.SurfaceName))
				if done < s.Grid.Len() {
					fmt.Fprintf(cmd.ErrOrStderr(), "lsweep: warning: %d points are missing; run the missing shards, then merge again\n", s.Grid.Len()-done)
				}
			}
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noPlot, "no-plot", false, "do not draw the pictures and report.html")
	pf.AddFlags(cmd.Flags())
	return cmd
}
