package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxAxisPoints is the largest number of points ParseAxis accepts on one
// axis.
const MaxAxisPoints = 1_000_000

// MaxPoints is the largest number of points a Grid may hold in all; Open
// and ReadSurface refuse larger grids.
const MaxPoints = 100_000_000

// Axis is one grid axis: N points from Min to Max inclusive, evenly spaced.
// If N is 1 the axis is the single point Min and Max is not used (ParseAxis
// and Open set it to Min). The zero Axis (N = 0) is the missing y axis of a
// 1-D Grid.
type Axis struct {
	Min, Max float64
	N        int
}

// ParseAxis parses "MIN:MAX:N", such as "-1:1:51". MIN and MAX are finite
// numbers in any form strconv.ParseFloat accepts, N is an integer from 1 to
// MaxAxisPoints, and MIN < MAX unless N is 1, when MAX is ignored and the
// Axis returned has Max = Min. The error names the text and what is wrong
// with it.
func ParseAxis(s string) (Axis, error) {
	bad := func(format string, args ...any) (Axis, error) {
		return Axis{}, fmt.Errorf("sweep: axis %q: "+format, append([]any{s}, args...)...)
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return bad("want MIN:MAX:N, such as -1:1:51")
	}
	var v [2]float64
	for k, name := range []string{"MIN", "MAX"} {
		p := strings.TrimSpace(parts[k])
		if p == "" {
			return bad("%s is missing (want MIN:MAX:N, such as -1:1:51)", name)
		}
		f, err := strconv.ParseFloat(p, 64)
		if err != nil && !isRange(err) {
			return bad("%s %q is not a number", name, p)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return bad("%s %q is not finite", name, p)
		}
		v[k] = f
	}
	p := strings.TrimSpace(parts[2])
	if p == "" {
		return bad("N is missing (want MIN:MAX:N, such as -1:1:51)")
	}
	n, err := strconv.Atoi(p)
	switch {
	case err != nil && isRange(err) && !strings.HasPrefix(p, "-"):
		return bad("N %s is more than %d points", p, MaxAxisPoints)
	case err != nil:
		return bad("N %q is not a whole number", p)
	case n < 1:
		return bad("N %d is not at least 1", n)
	case n > MaxAxisPoints:
		return bad("N %d is more than %d points", n, MaxAxisPoints)
	}
	a := Axis{Min: v[0], Max: v[1], N: n}
	if n == 1 {
		a.Max = a.Min
	}
	if n > 1 && !(a.Min < a.Max) {
		return bad("MIN %g is not less than MAX %g", a.Min, a.Max)
	}
	if n > 1 && math.IsInf(a.Max-a.Min, 0) {
		return bad("MAX-MIN overflows")
	}
	return a, nil
}

// isRange reports whether err is a strconv range error.
func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// check returns an error if a is not an axis ParseAxis could return.
func (a Axis) check(name string) error {
	if _, err := ParseAxis(a.String()); err != nil || a.N < 1 || a.N > MaxAxisPoints {
		return fmt.Errorf("sweep: bad %s axis %v (want N from 1 to %d, finite MIN < MAX)", name, a, MaxAxisPoints)
	}
	return nil
}

// Coords returns the N coordinates of the axis, Min + i*(Max-Min)/(N-1) for
// i = 0, ..., N-1; the first is exactly Min and the last exactly Max. It
// returns [Min] if N is 1 and nil if N is less than 1.
func (a Axis) Coords() []float64 {
	if a.N < 1 {
		return nil
	}
	c := make([]float64, a.N)
	for i := range c {
		c[i] = a.Coord(i)
	}
	return c
}

// Coord returns the i-th coordinate of the axis, Coords()[i], without
// allocating.
func (a Axis) Coord(i int) float64 {
	switch {
	case i == 0 || a.N <= 1:
		return a.Min
	case i == a.N-1:
		return a.Max
	}
	return a.Min + float64(i)*(a.Max-a.Min)/float64(a.N-1)
}

// String returns the axis as "MIN:MAX:N", with the shortest decimal forms
// that ParseAxis reads back to the same values.
func (a Axis) String() string {
	return strconv.FormatFloat(a.Min, 'g', -1, 64) + ":" + strconv.FormatFloat(a.Max, 'g', -1, 64) + ":" + strconv.Itoa(a.N)
}

// MarshalText returns a.String(), so that an Axis appears in JSON as
// "MIN:MAX:N".
func (a Axis) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText sets a to the axis ParseAxis parses from text.
func (a *Axis) UnmarshalText(text []byte) error {
	b, err := ParseAxis(string(text))
	if err != nil {
		return err
	}
	*a = b
	return nil
}

// same reports whether a and b have the same coordinates.
func (a Axis) same(b Axis) bool {
	return a.N == b.N && a.Min == b.Min && (a.N <= 1 || a.Max == b.Max)
}

// Grid is the set of points a sweep evaluates: a 1-D grid along X if Y.N
// is 0, otherwise the 2-D product of X and Y.
//
// Points are numbered i = iy*X.N + ix, where ix numbers X's coordinates and
// iy Y's: rows are y, columns are x, and arrays of values are stored in
// this row-major order with shape [Y.N, X.N] (numpy's loss[iy, ix]); a 1-D
// grid's points are numbered by ix alone and its arrays have shape [X.N].
type Grid struct {
	X Axis `json:"x"`
	Y Axis `json:"y,omitzero"`
}

// Len returns the number of points, X.N for a 1-D grid and X.N*Y.N for a
// 2-D grid.
func (g Grid) Len() int {
	if g.Y.N == 0 {
		return g.X.N
	}
	return g.X.N * g.Y.N
}

// Is2D reports whether g has a y axis (Y.N > 0).
func (g Grid) Is2D() bool { return g.Y.N > 0 }

// Coord returns the coordinates of point i, which is iy*X.N + ix; y is 0 for
// a 1-D grid. It panics if i is not in [0, Len()).
func (g Grid) Coord(i int) (x, y float64) {
	if i < 0 || i >= g.Len() {
		panic(fmt.Sprintf("sweep: point %d out of range [0, %d)", i, g.Len()))
	}
	if !g.Is2D() {
		return g.X.Coord(i), 0
	}
	return g.X.Coord(i % g.X.N), g.Y.Coord(i / g.X.N)
}

// Shape returns the shape of the arrays that hold the grid's values:
// [Y.N, X.N] (rows are y) for a 2-D grid, [X.N] for a 1-D grid.
func (g Grid) Shape() []int {
	if !g.Is2D() {
		return []int{g.X.N}
	}
	return []int{g.Y.N, g.X.N}
}

// String returns "x MIN:MAX:N" or "x MIN:MAX:N, y MIN:MAX:N".
func (g Grid) String() string {
	if !g.Is2D() {
		return "x " + g.X.String()
	}
	return "x " + g.X.String() + ", y " + g.Y.String()
}

// check returns an error if g is not a grid a sweep can use.
func (g Grid) check() error {
	if err := g.X.check("x"); err != nil {
		return err
	}
	if g.Is2D() {
		if err := g.Y.check("y"); err != nil {
			return err
		}
		if int64(g.X.N)*int64(g.Y.N) > MaxPoints {
			return fmt.Errorf("sweep: grid %v has %d points, more than %d", g, int64(g.X.N)*int64(g.Y.N), MaxPoints)
		}
	} else if g.Y != (Axis{}) {
		return fmt.Errorf("sweep: bad y axis %v (want N from 1 to %d, or the zero Axis for a 1-D grid)", g.Y, MaxAxisPoints)
	}
	return nil
}

// norm returns g with the Max of single-point axes set to their Min.
func (g Grid) norm() Grid {
	if g.X.N == 1 {
		g.X.Max = g.X.Min
	}
	if g.Y.N == 1 {
		g.Y.Max = g.Y.Min
	}
	return g
}

// same reports whether g and h have the same points.
func (g Grid) same(h Grid) bool {
	return g.X.same(h.X) && g.Is2D() == h.Is2D() && (!g.Is2D() || g.Y.same(h.Y))
}
