package render

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot/plotter"
)

// VTPOptions changes what WriteVTP writes. The zero value writes the grid as
// it is.
type VTPOptions struct {
	// Clip, when positive, caps the loss at Clip, in the heights and in the
	// "loss" array, as the reference's zmax option does.
	Clip float64

	// Log makes the heights log10 of the (clipped) loss; the "loss" array
	// keeps the loss. Points whose loss is <= 0 are then left out like
	// NaN ones.
	Log bool

	// Refine, when above 1, interpolates the loss bilinearly onto a grid
	// Refine times finer: Refine-1 new points between each pair of
	// neighbours, (c-1)*Refine+1 columns in all. A new point is NaN when a
	// grid point that weighs in its interpolation is NaN.
	Refine int
}

// WriteVTP writes g to w as a VTK XML PolyData file (.vtp, ASCII) for
// ParaView: one point (x, y, height) per finite grid point, one quad per
// cell whose four corners are finite, and the loss as point data in a
// Float64 array named "loss". NaN points are left out, and so are the quads
// that use them. It returns an error wrapping ErrNoData when no point is
// finite.
func WriteVTP(w io.Writer, g plotter.GridXYZ, opts VTPOptions) error {
	gr, err := readGrid(g, "vtp", 1, 1)
	if err != nil {
		return err
	}
	if opts.Refine > 1 {
		gr = refine(gr, opts.Refine)
	}
	loss := make([]float64, len(gr.z))
	height := make([]float64, len(gr.z))
	for i, v := range gr.z {
		if opts.Clip > 0 && v > opts.Clip {
			v = opts.Clip
		}
		loss[i] = v
		height[i] = v
		if opts.Log {
			if v > 0 {
				height[i] = math.Log10(v)
			} else {
				loss[i], height[i] = math.NaN(), math.NaN()
			}
		}
	}
	// Number the finite points.
	id := make([]int, len(gr.z))
	n := 0
	for i, v := range height {
		id[i] = -1
		if !math.IsNaN(v) {
			id[i] = n
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: vtp: no point of the %dx%d grid has a positive loss", ErrNoData, gr.nc, gr.nr)
	}
	var quads [][4]int
	for r := 0; r+1 < gr.nr; r++ {
		for c := 0; c+1 < gr.nc; c++ {
			q := [4]int{id[r*gr.nc+c], id[r*gr.nc+c+1], id[(r+1)*gr.nc+c+1], id[(r+1)*gr.nc+c]}
			if q[0] >= 0 && q[1] >= 0 && q[2] >= 0 && q[3] >= 0 {
				quads = append(quads, q)
			}
		}
	}

	bw := bufio.NewWriter(w)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	fmt.Fprintf(bw, "<?xml version=\"1.0\"?>\n")
	fmt.Fprintf(bw, "<VTKFile type=\"PolyData\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n")
	fmt.Fprintf(bw, "  <PolyData>\n")
	fmt.Fprintf(bw, "    <Piece NumberOfPoints=\"%d\" NumberOfVerts=\"0\" NumberOfLines=\"0\" NumberOfStrips=\"0\" NumberOfPolys=\"%d\">\n", n, len(quads))
	fmt.Fprintf(bw, "      <PointData Scalars=\"loss\">\n")
	fmt.Fprintf(bw, "        <DataArray type=\"Float64\" Name=\"loss\" NumberOfComponents=\"1\" format=\"ascii\">\n")
	for i, v := range loss {
		if id[i] >= 0 {
			fmt.Fprintf(bw, "          %s\n", f(v))
		}
	}
	fmt.Fprintf(bw, "        </DataArray>\n")
	fmt.Fprintf(bw, "      </PointData>\n")
	fmt.Fprintf(bw, "      <Points>\n")
	fmt.Fprintf(bw, "        <DataArray type=\"Float64\" Name=\"Points\" NumberOfComponents=\"3\" format=\"ascii\">\n")
	for r := range gr.nr {
		for c := range gr.nc {
			i := r*gr.nc + c
			if id[i] >= 0 {
				fmt.Fprintf(bw, "          %s %s %s\n", f(gr.x[c]), f(gr.y[r]), f(height[i]))
			}
		}
	}
	fmt.Fprintf(bw, "        </DataArray>\n")
	fmt.Fprintf(bw, "      </Points>\n")
	fmt.Fprintf(bw, "      <Polys>\n")
	fmt.Fprintf(bw, "        <DataArray type=\"Int64\" Name=\"connectivity\" format=\"ascii\">\n")
	for _, q := range quads {
		fmt.Fprintf(bw, "          %d %d %d %d\n", q[0], q[1], q[2], q[3])
	}
	fmt.Fprintf(bw, "        </DataArray>\n")
	fmt.Fprintf(bw, "        <DataArray type=\"Int64\" Name=\"offsets\" format=\"ascii\">\n")
	for i := range quads {
		fmt.Fprintf(bw, "          %d\n", 4*(i+1))
	}
	fmt.Fprintf(bw, "        </DataArray>\n")
	fmt.Fprintf(bw, "      </Polys>\n")
	fmt.Fprintf(bw, "    </Piece>\n")
	fmt.Fprintf(bw, "  </PolyData>\n")
	fmt.Fprintf(bw, "</VTKFile>\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render: vtp: %w", err)
	}
	return nil
}

// refine interpolates g bilinearly onto a grid k times finer.
func refine(g *grid, k int) *grid {
	fine := func(v []float64) []float64 {
		if len(v) == 1 {
			return append([]float64(nil), v...)
		}
		out := make([]float64, (len(v)-1)*k+1)
		for i := range out {
			j, f := i/k, float64(i%k)/float64(k)
			if j == len(v)-1 {
				out[i] = v[j]
				continue
			}
			out[i] = v[j] + f*(v[j+1]-v[j])
		}
		return out
	}
	r := &grid{x: fine(g.x), y: fine(g.y)}
	r.nc, r.nr = len(r.x), len(r.y)
	r.z = make([]float64, r.nc*r.nr)
	// Index and weight of the lower neighbour for a fine index.
	split := func(i, n int) (int, float64) {
		j, f := i/k, float64(i%k)/float64(k)
		if j >= n-1 {
			return n - 1, 0
		}
		return j, f
	}
	for ri := range r.nr {
		j, fy := split(ri, g.nr)
		for ci := range r.nc {
			i, fx := split(ci, g.nc)
			var sum float64
			for _, t := range [4]struct {
				dc, dr int
				w      float64
			}{{0, 0, (1 - fx) * (1 - fy)}, {1, 0, fx * (1 - fy)}, {0, 1, (1 - fx) * fy}, {1, 1, fx * fy}} {
				if t.w == 0 {
					continue
				}
				sum += t.w * g.at(i+t.dc, j+t.dr) // NaN spreads to the sum
			}
			r.z[ri*r.nc+ci] = sum
		}
	}
	return r
}
