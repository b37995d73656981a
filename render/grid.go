package render

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
)

// grid is a copy of a plotter.GridXYZ: z[r*nc+c] is the value at x[c], y[r].
type grid struct {
	nc, nr int
	x, y   []float64
	z      []float64
}

// readGrid copies g, checking that it has at least minC columns and minR
// rows and that its coordinates are finite and strictly monotonic.
func readGrid(g plotter.GridXYZ, what string, minC, minR int) (*grid, error) {
	if g == nil {
		return nil, fmt.Errorf("render: %s: nil grid", what)
	}
	nc, nr := g.Dims()
	if nc < minC || nr < minR {
		return nil, fmt.Errorf("render: %s: grid is %dx%d, need at least %dx%d", what, nc, nr, minC, minR)
	}
	gr := &grid{nc: nc, nr: nr, x: make([]float64, nc), y: make([]float64, nr), z: make([]float64, nc*nr)}
	for c := range nc {
		gr.x[c] = g.X(c)
	}
	for r := range nr {
		gr.y[r] = g.Y(r)
	}
	if err := checkAxis(gr.x); err != nil {
		return nil, fmt.Errorf("render: %s: x coordinates: %w", what, err)
	}
	if err := checkAxis(gr.y); err != nil {
		return nil, fmt.Errorf("render: %s: y coordinates: %w", what, err)
	}
	finiteN := 0
	for r := range nr {
		for c := range nc {
			v := g.Z(c, r)
			if math.IsInf(v, 0) {
				v = math.NaN() // an infinite loss cannot be drawn either
			}
			if !math.IsNaN(v) {
				finiteN++
			}
			gr.z[r*nc+c] = v
		}
	}
	if finiteN == 0 {
		return nil, fmt.Errorf("%w: %s of a %dx%d grid whose values are all NaN", ErrNoData, what, nc, nr)
	}
	return gr, nil
}

func checkAxis(v []float64) error {
	for i, x := range v {
		if !finite(x) {
			return fmt.Errorf("coordinate %d is %v", i, x)
		}
	}
	if len(v) < 2 {
		return nil
	}
	up := v[1] > v[0]
	for i := 1; i < len(v); i++ {
		if (v[i] > v[i-1]) != up || v[i] == v[i-1] {
			return errors.New("not strictly monotonic")
		}
	}
	return nil
}

func (g *grid) at(c, r int) float64 { return g.z[r*g.nc+c] }

// cellFinite reports whether the cell whose lower corner is (c, r) has four
// finite corners.
func (g *grid) cellFinite(c, r int) bool {
	return !math.IsNaN(g.at(c, r)) && !math.IsNaN(g.at(c+1, r)) &&
		!math.IsNaN(g.at(c, r+1)) && !math.IsNaN(g.at(c+1, r+1))
}

// anyCell reports whether some cell has four finite corners.
func (g *grid) anyCell() bool {
	for r := 0; r+1 < g.nr; r++ {
		for c := 0; c+1 < g.nc; c++ {
			if g.cellFinite(c, r) {
				return true
			}
		}
	}
	return false
}

// needCells returns an error wrapping ErrNoData when no cell has four finite
// corners, so that no contour can be drawn.
func (g *grid) needCells(what string) error {
	if !g.anyCell() {
		return fmt.Errorf("%w: %s: no cell of the %dx%d grid has four finite corners", ErrNoData, what, g.nc, g.nr)
	}
	return nil
}

func (g *grid) xRange() (float64, float64) { return minMax(g.x) }
func (g *grid) yRange() (float64, float64) { return minMax(g.y) }

func minMax(v []float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo = math.Min(lo, x)
		hi = math.Max(hi, x)
	}
	return lo, hi
}

// valueRange returns the finite range of the grid's values and the
// smallest positive value (+Inf if none).
func (g *grid) valueRange() (lo, hi, pos float64) { return dataRange(g.z) }

// gridValues returns the values of g, for AutoLevels; nil g gives nil.
func gridValues(g plotter.GridXYZ) []float64 {
	if g == nil {
		return nil
	}
	nc, nr := g.Dims()
	v := make([]float64, 0, nc*nr)
	for r := range nr {
		for c := range nc {
			v = append(v, g.Z(c, r))
		}
	}
	return v
}

// Grid is the simplest plotter.GridXYZ: a grid of values stored row by
// row. It is handy for tests and for callers that have a [][]float64.
type Grid struct {
	// Xs and Ys are the coordinates of the columns and rows.
	Xs, Ys []float64
	// Values holds Z(c, r) at Values[r*len(Xs)+c]; NaN is not computed.
	Values []float64
}

var _ plotter.GridXYZ = (*Grid)(nil)

// NewGrid returns a grid over xs and ys whose value at (c, r) is
// f(xs[c], ys[r]). If f is nil the values are NaN.
func NewGrid(xs, ys []float64, f func(x, y float64) float64) *Grid {
	g := &Grid{Xs: xs, Ys: ys, Values: make([]float64, len(xs)*len(ys))}
	for r, y := range ys {
		for c, x := range xs {
			v := math.NaN()
			if f != nil {
				v = f(x, y)
			}
			g.Values[r*len(xs)+c] = v
		}
	}
	return g
}

// Dims returns the number of columns and rows.
func (g *Grid) Dims() (c, r int) { return len(g.Xs), len(g.Ys) }

// Z returns the value at column c, row r.
func (g *Grid) Z(c, r int) float64 { return g.Values[r*len(g.Xs)+c] }

// X returns the coordinate of column c.
func (g *Grid) X(c int) float64 { return g.Xs[c] }

// Y returns the coordinate of row r.
func (g *Grid) Y(r int) float64 { return g.Ys[r] }

// Set sets the value at column c, row r.
func (g *Grid) Set(c, r int, v float64) { g.Values[r*len(g.Xs)+c] = v }
