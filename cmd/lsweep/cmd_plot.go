package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/pipeline"
)

type plotCmdOptions struct {
	plot plotFlags
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
with a legend: the way to compare models. Further 2-D output folders are each
drawn into their own folder, all with the same contour levels and colour
scale (--vmin and --vmax, or those of all their losses), so that their
pictures compare side by side.

lsweep run draws the PNGs and the report by default.` + "\n" + exitStatusHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			po, err := opts.plot.options()
			if err != nil {
				return err
			}
			files, err := pipeline.Draw(args[0], args[1:], po)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	opts.plot.AddFlags(cmd.Flags())
	return cmd
}
