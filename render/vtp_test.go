package render_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/lsweep/lsweep/render"
)

type vtkFile struct {
	XMLName xml.Name `xml:"VTKFile"`
	Type    string   `xml:"type,attr"`
	Piece   struct {
		NumberOfPoints int `xml:"NumberOfPoints,attr"`
		NumberOfPolys  int `xml:"NumberOfPolys,attr"`
		PointData      struct {
			Arrays []vtkArray `xml:"DataArray"`
		} `xml:"PointData"`
		Points struct {
			Array vtkArray `xml:"DataArray"`
		} `xml:"Points"`
		Polys struct {
			Arrays []vtkArray `xml:"DataArray"`
		} `xml:"Polys"`
	} `xml:"PolyData>Piece"`
}

type vtkArray struct {
	Name       string `xml:"Name,attr"`
	Type       string `xml:"type,attr"`
	Components int    `xml:"NumberOfComponents,attr"`
	Format     string `xml:"format,attr"`
	Text       string `xml:",chardata"`
}

func (a vtkArray) floats(t *testing.T) []float64 {
	t.Helper()
	var v []float64
	for _, f := range strings.Fields(a.Text) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("array %q: %v", a.Name, err)
		}
		v = append(v, x)
	}
	return v
}

func parseVTP(t *testing.T, g plotter.GridXYZ, opts render.VTPOptions) (*vtkFile, map[string][]float64) {
	t.Helper()
	var buf bytes.Buffer
	if err := render.WriteVTP(&buf, g, opts); err != nil {
		t.Fatal(err)
	}
	var f vtkFile
	if err := xml.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatalf("not XML: %v\n%s", err, buf.String())
	}
	if f.Type != "PolyData" {
		t.Fatalf("type %q", f.Type)
	}
	a := map[string][]float64{"points": f.Piece.Points.Array.floats(t)}
	for _, arr := range append(f.Piece.PointData.Arrays, f.Piece.Polys.Arrays...) {
		a[arr.Name] = arr.floats(t)
	}
	if len(a["points"]) != 3*f.Piece.NumberOfPoints || len(a["loss"]) != f.Piece.NumberOfPoints {
		t.Fatalf("%d point coordinates and %d losses for %d points", len(a["points"]), len(a["loss"]), f.Piece.NumberOfPoints)
	}
	if len(a["connectivity"]) != 4*f.Piece.NumberOfPolys || len(a["offsets"]) != f.Piece.NumberOfPolys {
		t.Fatalf("%d connectivity and %d offsets for %d quads", len(a["connectivity"]), len(a["offsets"]), f.Piece.NumberOfPolys)
	}
	for i, o := range a["offsets"] {
		if o != float64(4*(i+1)) {
			t.Fatalf("offset %d is %v", i, o)
		}
	}
	for _, c := range a["connectivity"] {
		if c < 0 || c >= float64(f.Piece.NumberOfPoints) || c != math.Trunc(c) {
			t.Fatalf("connectivity index %v out of range", c)
		}
	}
	return &f, a
}

// vtpGrid is a 4x3 grid with loss 1 + c + 10 r at (x, y) = (c/2, r - 1).
func vtpGrid() *render.Grid {
	return render.NewGrid([]float64{0, 0.5, 1, 1.5}, []float64{-1, 0, 1}, func(x, y float64) float64 { return 1 + 2*x + 10*(y+1) })
}

func TestWriteVTP(t *testing.T) {
	g := vtpGrid()
	f, a := parseVTP(t, g, render.VTPOptions{})
	if f.Piece.NumberOfPoints != 12 || f.Piece.NumberOfPolys != 6 {
		t.Fatalf("%d points, %d quads; want 12, 6", f.Piece.NumberOfPoints, f.Piece.NumberOfPolys)
	}
	for i, v := range a["loss"] {
		c, r := i%4, i/4
		if want := g.Z(c, r); v != want {
			t.Errorf("loss %d = %v, want %v", i, v, want)
		}
		if p := a["points"][3*i : 3*i+3]; p[0] != g.X(c) || p[1] != g.Y(r) || p[2] != g.Z(c, r) {
			t.Errorf("point %d = %v", i, p)
		}
	}
	// The first quad is the cell at the origin, counter-clockwise.
	if q := a["connectivity"][:4]; q[0] != 0 || q[1] != 1 || q[2] != 5 || q[3] != 4 {
		t.Errorf("first quad %v, want [0 1 5 4]", q)
	}
}

func TestWriteVTPNaN(t *testing.T) {
	g := vtpGrid()
	g.Set(1, 1, math.NaN()) // used by four cells
	g.Set(3, 2, math.NaN()) // a corner, used by one
	f, a := parseVTP(t, g, render.VTPOptions{})
	if f.Piece.NumberOfPoints != 10 || f.Piece.NumberOfPolys != 1 {
		t.Fatalf("%d points, %d quads; want 10, 1", f.Piece.NumberOfPoints, f.Piece.NumberOfPolys)
	}
	for _, v := range a["loss"] {
		if math.IsNaN(v) {
			t.Fatal("NaN written")
		}
	}
	// The one quad left is the cell at column 2, row 0: points
	// (2,0), (3,0), (3,1), (2,1), numbered without the NaN point (1,1).
	if q := a["connectivity"]; q[0] != 2 || q[1] != 3 || q[2] != 6 || q[3] != 5 {
		t.Errorf("quad %v, want [2 3 6 5]", q)
	}
	if a["loss"][6] != g.Z(3, 1) {
		t.Errorf("point 6 has loss %v, want %v", a["loss"][6], g.Z(3, 1))
	}
}

func TestWriteVTPClipLog(t *testing.T) {
	g := vtpGrid()
	g.Set(0, 0, 0) // no log: left out with Log
	_, a := parseVTP(t, g, render.VTPOptions{Clip: 15, Log: true})
	if len(a["loss"]) != 11 {
		t.Fatalf("%d points, want 11", len(a["loss"]))
	}
	for i, v := range a["loss"] {
		z := a["points"][3*i+2]
		if v > 15 {
			t.Errorf("loss %v above the clip", v)
		}
		if math.Abs(z-math.Log10(v)) > 1e-12 {
			t.Errorf("height %v, want log10(%v)", z, v)
		}
	}
	if a["loss"][len(a["loss"])-1] != 15 {
		t.Errorf("largest loss %v, want the clip 15", a["loss"][len(a["loss"])-1])
	}
}

func TestWriteVTPRefine(t *testing.T) {
	g := vtpGrid()
	f, a := parseVTP(t, g, render.VTPOptions{Refine: 3})
	// (4-1)*3+1 = 10 columns, (3-1)*3+1 = 7 rows.
	if f.Piece.NumberOfPoints != 70 || f.Piece.NumberOfPolys != 54 {
		t.Fatalf("%d points, %d quads; want 70, 54", f.Piece.NumberOfPoints, f.Piece.NumberOfPolys)
	}
	// The grid is bilinear (in fact linear), so every refined point is
	// exact.
	for i, v := range a["loss"] {
		x, y := a["points"][3*i], a["points"][3*i+1]
		if want := 1 + 2*x + 10*(y+1); math.Abs(v-want) > 1e-12 {
			t.Errorf("refined loss at (%v, %v) = %v, want %v", x, y, v, want)
		}
	}
	// A NaN spreads to the refined points it weighs in, and no further.
	g.Set(1, 1, math.NaN())
	f, a = parseVTP(t, g, render.VTPOptions{Refine: 2})
	// 7x5 fine points; the NaN node (2,2) in fine indices spoils the 3x3
	// block around it: 35 - 9 = 26 points.
	if f.Piece.NumberOfPoints != 26 {
		t.Errorf("%d points, want 26", f.Piece.NumberOfPoints)
	}
	// Quads: 6x4 = 24 fine cells, of which the 16 in the 4x4 block of fine
	// cells around the NaN node use a NaN point.
	if f.Piece.NumberOfPolys != 8 {
		t.Errorf("%d quads, want 8", f.Piece.NumberOfPolys)
	}
	// A bilinear centre: the mean of the four corners of cell (2, 0).
	for i := range a["loss"] {
		x, y := a["points"][3*i], a["points"][3*i+1]
		if x == 1.25 && y == -0.5 {
			want := (g.Z(2, 0) + g.Z(3, 0) + g.Z(2, 1) + g.Z(3, 1)) / 4
			if math.Abs(a["loss"][i]-want) > 1e-12 {
				t.Errorf("centre %v, want %v", a["loss"][i], want)
			}
		}
	}
}

func TestWriteVTPNoData(t *testing.T) {
	var buf bytes.Buffer
	err := render.WriteVTP(&buf, render.NewGrid([]float64{0, 1}, []float64{0, 1}, nil), render.VTPOptions{})
	if !errors.Is(err, render.ErrNoData) {
		t.Errorf("all NaN: %v", err)
	}
	err = render.WriteVTP(&buf, render.NewGrid([]float64{0, 1}, []float64{0, 1}, func(x, y float64) float64 { return -x }), render.VTPOptions{Log: true})
	if !errors.Is(err, render.ErrNoData) {
		t.Errorf("log of non-positive losses: %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written", buf.Len())
	}
}
