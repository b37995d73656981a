package flatness

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/vg"

	"github.com/lsweep/lsweep/render"
)

// Plot size for SavePlot.
const (
	PlotWidth  = 6 * vg.Inch
	PlotHeight = 4.5 * vg.Inch
)

// Curves returns a picture of the report's slices: for each model, its
// slice along every direction as a thin pale line and the mean over
// directions as a strong one, the two models overlaid in two colours, with
// the accuracies in a panel below when the head has them.
func (r *Report) Curves() *render.Curves {
	strong := []color.NRGBA{
		{0x00, 0x72, 0xb2, 255}, // blue: base
		{0xd5, 0x5e, 0x00, 255}, // vermillion: candidate
	}
	var curves []render.Curve
	var colors []color.Color
	sides := []struct {
		label string
		s     Slices
	}{{r.Base.Label, r.BaseSlices}, {r.Candidate.Label, r.CandidateSlices}}
	// Pale lines first, so that the means are drawn over them.
	for i, sd := range sides {
		pale := strong[i]
		pale.A = 70
		for k := range sd.s.Loss {
			curves = append(curves, render.Curve{X: r.X, Loss: sd.s.Loss[k], Acc: accRow(sd.s, k)})
			colors = append(colors, pale)
		}
	}
	for i, sd := range sides {
		curves = append(curves, render.Curve{
			Label: []string{"base: ", "candidate: "}[i] + sd.label,
			X:     r.X, Loss: meanRows(sd.s.Loss), Acc: meanRows(accRows(sd.s)),
		})
		colors = append(colors, strong[i])
	}
	c := render.NewCurves(curves...)
	c.Colors = colors
	c.Title = fmt.Sprintf("loss along %d %s random directions: each (pale) and their mean", len(sides[0].s.Loss), normWords(r.Settings.Norm))
	c.XLabel = "distance along the direction"
	// A log axis when the losses span decades (its decade ticks say so; a
	// longer axis label makes render pad the panel's top).
	c.LogLoss = wideRange(r.BaseSlices.Loss, r.CandidateSlices.Loss)
	c.LineWidth = vg.Points(1.2)
	return c
}

// SavePlot draws Curves into a file (PNG, SVG or PDF by its extension) of
// PlotWidth by PlotHeight.
func (r *Report) SavePlot(path string) error {
	return render.Save(r.Curves(), path, PlotWidth, PlotHeight)
}

// accRow returns direction k's accuracies, or nil when there are none
// (regression).
func accRow(s Slices, k int) []float64 {
	if k >= len(s.Acc) || allNaN(s.Acc[k]) {
		return nil
	}
	return s.Acc[k]
}

func accRows(s Slices) [][]float64 {
	var out [][]float64
	for k := range s.Loss {
		if a := accRow(s, k); a != nil {
			out = append(out, a)
		}
	}
	return out
}

// meanRows returns the mean of the rows, column by column, or nil when
// there are none.
func meanRows(rows [][]float64) []float64 {
	if len(rows) == 0 {
		return nil
	}
	out := make([]float64, len(rows[0]))
	for _, row := range rows {
		for i, v := range row {
			out[i] += v
		}
	}
	for i := range out {
		out[i] /= float64(len(rows))
	}
	return out
}

func allNaN(v []float64) bool {
	for _, x := range v {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}

// wideRange reports whether the positive losses span more than two decades,
// so that a linear axis would flatten the lower curves onto zero.
func wideRange(sets ...[][]float64) bool {
	lo, hi := math.Inf(1), 0.0
	for _, rows := range sets {
		for _, row := range rows {
			for _, v := range row {
				if v <= 0 {
					return false
				}
				if !math.IsInf(v, 0) && !math.IsNaN(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	return hi/lo > 100
}

// normWords returns how reports name a normalisation.
func normWords(norm string) string {
	switch norm {
	case "filter":
		return "filter-normalised"
	case "layer":
		return "layer-normalised"
	case "weight":
		return "weight-scaled"
	case "none":
		return "unnormalised"
	}
	return norm
}
