package pipeline

import (
	"fmt"
	"math"

	"github.com/lsweep/lsweep/render"
	"github.com/lsweep/lsweep/report"
	"github.com/lsweep/lsweep/sweep"
)

// Summary is what a run's printout and report say of its surface.
type Summary struct {
	Points, Computed int
	// MinLoss is the smallest loss computed, at (MinX, MinY); MinIndex is
	// -1 when no loss is finite.
	MinIndex   int
	MinLoss    float64
	MinX, MinY float64
	// CentreIndex is the point at (0, 0) if it is computed, else -1.
	CentreIndex           int
	CentreLoss, CentreAcc float64
}

// Summarize returns the summary of s.
func Summarize(s *sweep.Surface) Summary {
	sum := Summary{Points: s.Grid.Len(), Computed: s.Count(), CentreIndex: -1}
	sum.MinIndex, sum.MinLoss = s.Min("loss")
	if sum.MinIndex >= 0 {
		sum.MinX, sum.MinY = s.Grid.Coord(sum.MinIndex)
	}
	for i := 0; i < s.Grid.Len(); i++ {
		if x, y := s.Grid.Coord(i); x == 0 && y == 0 && s.Mask[i] {
			sum.CentreIndex = i
			sum.CentreLoss, sum.CentreAcc = s.Values["loss"][i], s.Values["acc"][i]
			break
		}
	}
	return sum
}

func reportOf(s *sweep.Surface, d *drawing) *report.Report {
	r := &report.Report{
		Title:    "lsweep — " + d.ri.label("run"),
		Surface:  &report.Surface{X: s.Grid.X.Coords(), Values: s.Values},
		Images:   d.pngs,
		ColorMap: d.cm,
	}
	if d.ri.manifest != nil {
		r.Manifest = d.ri.manifest.table()
	}
	if s.Grid.Is2D() {
		r.Surface.Y = s.Grid.Y.Coords()
	}
	r.Surface.Log = d.o.lossLog(s.Values["loss"]) // as the pictures
	if l := d.o.Levels; l != nil && s.Grid.Is2D() {
		// As the 2-D pictures; a 1-D run's curve keeps its own range.
		r.Surface.LossRange = []float64{l.Min, l.Max}
	}
	sum := Summarize(s)
	if sum.MinIndex >= 0 {
		if s.Grid.Is2D() {
			r.Summary = append(r.Summary, fmt.Sprintf("Minimum loss %.6g at (%.4g, %.4g).", sum.MinLoss, sum.MinX, sum.MinY))
		} else {
			r.Summary = append(r.Summary, fmt.Sprintf("Minimum loss %.6g at %.4g.", sum.MinLoss, sum.MinX))
		}
	}
	if sum.CentreIndex >= 0 {
		r.Summary = append(r.Summary, fmt.Sprintf("Loss at the centre %.6g, accuracy %.4f.", sum.CentreLoss, sum.CentreAcc))
	}
	line := fmt.Sprintf("%d of %d points computed.", sum.Computed, sum.Points)
	if est := s.Values[sweep.EstimatedChannel]; est != nil {
		filled := 0
		for i, e := range est {
			if s.Mask[i] && e != 0 {
				filled++
			}
		}
		line = fmt.Sprintf("%d of %d points done: %d computed, %d interpolated from computed neighbours (grey dots).", sum.Computed, sum.Points, sum.Computed-filled, filled)
	}
	r.Summary = append(r.Summary, line)
	if t := d.ri.traj; t != nil {
		addTrajectory(r, t)
		if s.Grid.Is2D() {
			tp := trajectoryPath(t)
			r.Path = &report.Path{X: tp.X, Y: tp.Y, Labels: tp.Labels}
		}
	}
	return r
}

// addTrajectory puts a trajectory's path into a report: a summary line and
// a table of the checkpoints' coordinates.
func addTrajectory(r *report.Report, t *TrajectoryFile) {
	r.Summary = append(r.Summary, fmt.Sprintf("Training path of %d checkpoints on the plane of their first two principal components, which explain %.2f %% and %.2f %% of the variance.",
		len(t.Checkpoints), 100*t.ExplainedVarianceRatio[0], 100*t.ExplainedVarianceRatio[1]))
	rows := map[string]any{"explained_variance_ratio": fmt.Sprintf("%.6f, %.6f", t.ExplainedVarianceRatio[0], t.ExplainedVarianceRatio[1])}
	for i, c := range t.Checkpoints {
		// Numbered keys keep the training order in the sorted table.
		rows[fmt.Sprintf("%0*d %s", len(fmt.Sprint(len(t.Checkpoints))), i, c)] = fmt.Sprintf("(%.6g, %.6g)", t.Coordinates[i][0], t.Coordinates[i][1])
	}
	if r.Manifest == nil {
		r.Manifest = map[string]any{}
	}
	r.Manifest["trajectory"] = rows
}

// gridOf is one channel of a 2-D surface as a picture's grid (NaN where not
// computed: ReadSurface puts it there).
func gridOf(s *sweep.Surface, channel string) *render.Grid {
	return &render.Grid{Xs: s.Grid.X.Coords(), Ys: s.Grid.Y.Coords(), Values: s.Values[channel]}
}

// completeGrid returns one channel of a 2-D surface on the finest lattice
// of CoarseToFine's levels (each axis cut into 2^L equal steps, rounded to
// grid points) whose points are all computed: the whole grid when it is
// complete, nil when not even the corners are.
func completeGrid(s *sweep.Surface, channel string) *render.Grid {
	if s.Count() == s.Grid.Len() {
		return gridOf(s, channel)
	}
	nx, ny := s.Grid.X.N, s.Grid.Y.N
	var best *render.Grid
	for level := 0; 1<<level < 2*max(nx, ny); level++ {
		xi, yi := lattice(nx, level), lattice(ny, level)
		if len(xi) < 2 || len(yi) < 2 {
			continue
		}
		complete := true
		for _, j := range yi {
			for _, i := range xi {
				complete = complete && s.Mask[j*nx+i]
			}
		}
		if !complete {
			break
		}
		xs, ys := s.Grid.X.Coords(), s.Grid.Y.Coords()
		g := &render.Grid{}
		for _, i := range xi {
			g.Xs = append(g.Xs, xs[i])
		}
		for _, j := range yi {
			g.Ys = append(g.Ys, ys[j])
			for _, i := range xi {
				g.Values = append(g.Values, s.Values[channel][j*nx+i])
			}
		}
		best = g
	}
	return best
}

// lattice returns the grid indices of an axis of n points cut into 2^level
// equal steps, rounded to the nearest point, without repeats.
func lattice(n, level int) []int {
	steps := 1 << level
	var out []int
	for k := 0; k <= steps; k++ {
		i := int(math.Round(float64(k) * float64(n-1) / float64(steps)))
		if len(out) == 0 || out[len(out)-1] != i {
			out = append(out, i)
		}
	}
	return out
}
