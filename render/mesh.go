package render

import (
	"math"

	"gonum.org/v1/plot/vg"
)

// mesh triangulates the cells of a grid in canvas coordinates for filled
// contours and contour lines. Each cell with four finite corners is split
// into four triangles that meet at its centre, whose value is the mean of the
// corners; the surface is linear on each triangle. Filled bands and contour
// lines come from the same triangles, so lines lie exactly on band edges.
// Crossing points are computed the same way from both triangles that share
// an edge, so neighbouring pieces meet exactly.
type mesh struct {
	g      *grid
	px, py []float64 // canvas coordinates of columns and rows, in points
	valid  []bool    // per cell, r*(nc-1)+c
	lo, hi []float64 // per cell: smallest and largest corner
	centre []float64 // per cell: mean of corners
	nodes  int       // number of node ids
}

type node struct {
	id   int
	x, y float64
	v    float64
}

func newMesh(g *grid, px, py []float64) *mesh {
	m := &mesh{g: g, px: px, py: py}
	n := (g.nc - 1) * (g.nr - 1)
	m.valid = make([]bool, n)
	m.lo = make([]float64, n)
	m.hi = make([]float64, n)
	m.centre = make([]float64, n)
	m.nodes = g.nc*g.nr + n
	for r := 0; r+1 < g.nr; r++ {
		for c := 0; c+1 < g.nc; c++ {
			i := r*(g.nc-1) + c
			if !g.cellFinite(c, r) {
				continue
			}
			a, b, cc, d := g.at(c, r), g.at(c+1, r), g.at(c+1, r+1), g.at(c, r+1)
			m.valid[i] = true
			m.lo[i] = math.Min(math.Min(a, b), math.Min(cc, d))
			m.hi[i] = math.Max(math.Max(a, b), math.Max(cc, d))
			m.centre[i] = (a + b + cc + d) / 4
		}
	}
	return m
}

func (m *mesh) corner(c, r int) node {
	return node{id: r*m.g.nc + c, x: m.px[c], y: m.py[r], v: m.g.at(c, r)}
}

// triangles returns the four triangles of cell (c, r), each counter-clockwise
// in canvas coordinates.
func (m *mesh) triangles(c, r int) [4][3]node {
	i := r*(m.g.nc-1) + c
	p0, p1, p2, p3 := m.corner(c, r), m.corner(c+1, r), m.corner(c+1, r+1), m.corner(c, r+1)
	ctr := node{id: m.g.nc*m.g.nr + i, x: (p0.x + p2.x) / 2, y: (p0.y + p2.y) / 2, v: m.centre[i]}
	t := [4][3]node{{p0, p1, ctr}, {p1, p2, ctr}, {p2, p3, ctr}, {p3, p0, ctr}}
	for k := range t {
		a, b, cc := t[k][0], t[k][1], t[k][2]
		if (b.x-a.x)*(cc.y-a.y)-(b.y-a.y)*(cc.x-a.x) < 0 {
			t[k][1], t[k][2] = cc, b
		}
	}
	return t
}

// crossing returns the point on edge ab where the linear surface equals l.
func crossing(a, b node, l float64) (x, y float64) {
	if a.id > b.id {
		a, b = b, a
	}
	t := (l - a.v) / (b.v - a.v)
	return a.x + t*(b.x-a.x), a.y + t*(b.y-a.y)
}

func (m *mesh) edgeKey(a, b node) int64 {
	if a.id > b.id {
		a, b = b, a
	}
	return int64(a.id)*int64(m.nodes) + int64(b.id)
}

// region returns a path covering the cells where the surface is >= l;
// l = -Inf covers every cell with four finite corners. Whole cells are
// merged into runs along rows; the others are cut along the level.
// All sub-paths are counter-clockwise, so one fill covers their union
// without seams.
func (m *mesh) region(l float64) vg.Path {
	var p vg.Path
	nc := m.g.nc
	for r := 0; r+1 < m.g.nr; r++ {
		run := -1
		flush := func(end int) {
			if run < 0 {
				return
			}
			addPoly(&p, []float64{
				m.px[run], m.py[r], m.px[end], m.py[r],
				m.px[end], m.py[r+1], m.px[run], m.py[r+1],
			})
			run = -1
		}
		for c := 0; c+1 < nc; c++ {
			i := r*(nc-1) + c
			if !m.valid[i] {
				flush(c)
				continue
			}
			if m.lo[i] >= l {
				if run < 0 {
					run = c
				}
				continue
			}
			flush(c)
			if m.hi[i] < l {
				continue
			}
			for _, t := range m.triangles(c, r) {
				m.clipAbove(&p, t, l)
			}
		}
		flush(nc - 1)
	}
	return p
}

// clipAbove adds to p the part of triangle t where the surface is >= l.
func (m *mesh) clipAbove(p *vg.Path, t [3]node, l float64) {
	var pts [8]float64
	n := 0
	for k := range 3 {
		a, b := t[k], t[(k+1)%3]
		ain, bin := a.v >= l, b.v >= l
		if ain {
			pts[n], pts[n+1] = a.x, a.y
			n += 2
		}
		if ain != bin {
			pts[n], pts[n+1] = crossing(a, b, l)
			n += 2
		}
	}
	if n >= 6 {
		addPoly(p, pts[:n])
	}
}

// addPoly adds the closed polygon with the flattened coordinates xy to p,
// counter-clockwise.
func addPoly(p *vg.Path, xy []float64) {
	n := len(xy) / 2
	area := 0.0
	for i := range n {
		j := (i + 1) % n
		area += xy[2*i]*xy[2*j+1] - xy[2*j]*xy[2*i+1]
	}
	pt := func(i int) vg.Point { return vg.Point{X: vg.Length(xy[2*i]), Y: vg.Length(xy[2*i+1])} }
	if area >= 0 {
		p.Move(pt(0))
		for i := 1; i < n; i++ {
			p.Line(pt(i))
		}
	} else {
		p.Move(pt(n - 1))
		for i := n - 2; i >= 0; i-- {
			p.Line(pt(i))
		}
	}
	p.Close()
}

// polyline is a contour line in canvas coordinates.
type polyline struct {
	pts    []vg.Point
	closed bool
}

// lines returns the contour lines of the surface at level l, joined into
// polylines. A vertex equal to l counts as above it.
func (m *mesh) lines(l float64) []polyline {
	type seg struct {
		k    [2]int64
		p    [2]vg.Point
		used bool
	}
	var segs []seg
	ends := make(map[int64][]int)
	nc := m.g.nc
	for r := 0; r+1 < m.g.nr; r++ {
		for c := 0; c+1 < nc; c++ {
			i := r*(nc-1) + c
			if !m.valid[i] || m.hi[i] < l || m.lo[i] >= l {
				continue
			}
			for _, t := range m.triangles(c, r) {
				var s seg
				n := 0
				for k := range 3 {
					a, b := t[k], t[(k+1)%3]
					if (a.v >= l) != (b.v >= l) {
						x, y := crossing(a, b, l)
						s.k[n] = m.edgeKey(a, b)
						s.p[n] = vg.Point{X: vg.Length(x), Y: vg.Length(y)}
						n++
					}
				}
				if n != 2 {
					continue
				}
				idx := len(segs)
				segs = append(segs, s)
				ends[s.k[0]] = append(ends[s.k[0]], idx)
				ends[s.k[1]] = append(ends[s.k[1]], idx)
			}
		}
	}
	var out []polyline
	walk := func(i int, from int) polyline {
		var pl polyline
		key := segs[i].k[from]
		start := key
		pl.pts = append(pl.pts, segs[i].p[from])
		for i >= 0 {
			segs[i].used = true
			to := 0
			if segs[i].k[0] == key {
				to = 1
			}
			key = segs[i].k[to]
			pl.pts = append(pl.pts, segs[i].p[to])
			next := -1
			for _, j := range ends[key] {
				if !segs[j].used {
					next = j
					break
				}
			}
			i = next
		}
		pl.closed = key == start && len(pl.pts) > 2
		return pl
	}
	// Open lines first, from one of their ends, then the loops.
	for i := range segs {
		if segs[i].used {
			continue
		}
		for e := range 2 {
			if len(ends[segs[i].k[e]]) == 1 {
				out = append(out, walk(i, e))
				break
			}
		}
	}
	for i := range segs {
		if !segs[i].used {
			out = append(out, walk(i, 0))
		}
	}
	return out
}
