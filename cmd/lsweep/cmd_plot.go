package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

type plotCmdOptions struct {
	plot plotOptions
}

func newPlotCommand() *cobra.Command {
	var opts plotCmdOptions
	cmd := &cobra.Command{
		Use:   "plot OUT [OTHER_OUT...]",
		Short: "Draw the pictures and the report page of a run's output folder",
		Long: `Draw the pictures of the run in OUT (also a partial run, or one merged from
shards) into OUT:
  2-D: contour.png (labelled contour lines), filled_contour.png (with a colour
       bar), heatmap.png and accuracy.png (grey: not computed), surface3d.png
       (a shaded 3-D view), surface.vtp (for ParaView)
  1-D: curve.png (loss and accuracy against the coordinate)
  both: report.html, one file that works offline, with an interactive 3-D view
Further 1-D output folders (OTHER_OUT) are overlaid on OUT's curve picture,
with a legend: the way to compare models.

lsweep run draws the PNGs and the report by default.` + "\n" + exitStatusHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.plot.check(); err != nil {
				return err
			}
			d, err := drawRun(args[0], args[1:], opts.plot)
			if err != nil {
				return err
			}
			for _, f := range d.files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	opts.plot.AddFlags(cmd.Flags())
	return cmd
}
