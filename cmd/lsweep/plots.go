package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/lsweep/lsweep/internal/atomicfile"
	"github.com/lsweep/lsweep/render"
	"github.com/lsweep/lsweep/report"
	"github.com/lsweep/lsweep/sweep"
)

// plotOptions are the flags that style the pictures of a run.
type plotOptions struct {
	formats   []string
	vmin      float64
	vmax      float64
	vlevel    float64
	log       bool
	linear    bool
	palette   string
	azimuth   float64
	elevation float64
	clip      float64
	vtpRefine int
	noReport  bool
}

func (o *plotOptions) AddFlags(f flagSet) {
	f.StringSliceVar(&o.formats, "format", []string{"png"}, "picture formats: png, svg, pdf (comma-separated)")
	f.Float64Var(&o.vmin, "vmin", math.NaN(), "lowest contour level (with --vmax and --vlevel: levels vmin, vmin+vlevel, ... vmax)")
	f.Float64Var(&o.vmax, "vmax", math.NaN(), "highest contour level")
	f.Float64Var(&o.vlevel, "vlevel", math.NaN(), "step between contour levels")
	f.BoolVar(&o.log, "log", false, "log colour scale and log-spaced levels (default: when the loss spans more than two decades)")
	f.BoolVar(&o.linear, "linear", false, "linear colour scale and levels even when the loss spans decades")
	f.StringVar(&o.palette, "palette", "viridis", "colour map: viridis, magma, inferno, plasma, cividis (a _r suffix reverses)")
	f.Float64Var(&o.azimuth, "azimuth", -60, "3-D view: azimuth in degrees")
	f.Float64Var(&o.elevation, "elevation", 30, "3-D view: elevation in degrees")
	f.Float64Var(&o.clip, "clip", 0, "3-D view and ParaView file: cap the loss at this value (0: no cap)")
	f.IntVar(&o.vtpRefine, "vtp-refine", 1, "ParaView file: interpolate to a grid this many times finer")
	f.BoolVar(&o.noReport, "no-report", false, "do not write report.html")
}

// flagSet is the part of pflag.FlagSet the options use.
type flagSet interface {
	StringSliceVar(p *[]string, name string, value []string, usage string)
	Float64Var(p *float64, name string, value float64, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
	StringVar(p *string, name string, value string, usage string)
	IntVar(p *int, name string, value int, usage string)
}

func (o *plotOptions) check() error {
	for _, f := range o.formats {
		switch strings.ToLower(f) {
		case "png", "svg", "pdf":
		default:
			return fmt.Errorf("--format: unknown picture format %q (want png, svg or pdf)", f)
		}
	}
	if o.log && o.linear {
		return errors.New("--log and --linear contradict each other")
	}
	set := 0
	for _, v := range []float64{o.vmin, o.vmax, o.vlevel} {
		if !math.IsNaN(v) {
			set++
		}
	}
	if set != 0 && set != 3 {
		return errors.New("--vmin, --vmax and --vlevel go together")
	}
	if set == 3 && (o.vmax <= o.vmin || o.vlevel <= 0) {
		return fmt.Errorf("--vmin %g --vmax %g --vlevel %g: want vmin < vmax and vlevel > 0", o.vmin, o.vmax, o.vlevel)
	}
	if _, err := render.ColorMapNamed(o.palette); err != nil {
		return fmt.Errorf("--palette: %w", err)
	}
	return nil
}

// runInfo is what the pictures say about a run, read from its manifest.
type runInfo struct {
	model    string
	interp   bool // x is a model difference
	manifest map[string]any
}

func readRunInfo(out string) runInfo {
	var info runInfo
	data, err := os.ReadFile(filepath.Join(out, sweep.ManifestName))
	if err != nil || json.Unmarshal(data, &info.manifest) != nil {
		return info
	}
	if id, ok := info.manifest["identity"].(map[string]any); ok {
		_, info.interp = id["model2_sha256"]
	}
	if in, ok := info.manifest["info"].(map[string]any); ok {
		if m, ok := in["model"].(string); ok {
			info.model = filepath.Base(m)
		}
	}
	return info
}

func (ri runInfo) xLabel() string {
	if ri.interp {
		return "interpolation α (0: model, 1: model2)"
	}
	return "x direction"
}

// drawn lists the files a plot wrote.
type drawn struct {
	files []string
	pngs  []report.Image
}

// drawRun draws every picture of an output folder and, unless asked not
// to, its report page. others are further 1-D runs whose curves are
// overlaid on the curve picture.
func drawRun(out string, others []string, o plotOptions) (*drawn, error) {
	s, err := sweep.ReadSurface(filepath.Join(out, sweep.SurfaceName))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s holds no surface.npz: run lsweep run first (or lsweep merge for shards)", out)
		}
		return nil, err
	}
	if s.Count() == 0 {
		return nil, fmt.Errorf("%s: no point of the surface is computed yet", out)
	}
	ri := readRunInfo(out)
	d := &drawn{}
	cm, _ := render.ColorMapNamed(o.palette)
	save := func(name string, dr render.Drawer, w, h vg.Length, caption string) error {
		for _, f := range o.formats {
			path := filepath.Join(out, name+"."+strings.ToLower(f))
			if err := render.Save(dr, path, w, h); err != nil {
				return err
			}
			d.files = append(d.files, path)
			if strings.ToLower(f) == "png" {
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				d.pngs = append(d.pngs, report.Image{Name: name, Caption: caption, PNG: data})
			}
		}
		return nil
	}
	title := ri.model
	if s.Grid.Is2D() {
		if len(others) > 0 {
			return nil, errors.New("overlaying other runs works for 1-D runs only")
		}
		// A partial run draws its contours and 3-D view on the finest
		// lattice of the coarse-to-fine order that is complete; the heat
		// maps show every computed point, with gaps.
		g := completeGrid(s, "loss")
		if g == nil {
			return nil, fmt.Errorf("%s: %d of %d points computed, too few to draw yet (the four corners are the first)", out, s.Count(), s.Grid.Len())
		}
		levels := o.levels()
		c := render.NewContour(g)
		c.Title, c.XLabel, c.YLabel, c.ColorMap = title+" — loss contours", ri.xLabel(), "y direction", cm
		o.applyScale(&c.Log)
		if levels != nil {
			c.Levels = levels
		}
		if err := save("contour", c, 5*vg.Inch, 4.6*vg.Inch, "Contour lines of the loss"); err != nil {
			return nil, err
		}
		fc := render.NewFilledContour(g)
		fc.Title, fc.XLabel, fc.YLabel, fc.ColorMap, fc.ZLabel = title+" — loss", ri.xLabel(), "y direction", cm, "loss"
		o.applyScale(&fc.Log)
		if levels != nil {
			fc.Levels = levels
		}
		if err := save("filled_contour", fc, 5.6*vg.Inch, 4.6*vg.Inch, "Filled contours of the loss"); err != nil {
			return nil, err
		}
		hm := render.NewHeatMap(gridOf(s, "loss"))
		hm.Title, hm.XLabel, hm.YLabel, hm.ColorMap, hm.ZLabel = title+" — loss", ri.xLabel(), "y direction", cm, "loss"
		o.applyScale(&hm.Log)
		if err := save("heatmap", hm, 5.6*vg.Inch, 4.6*vg.Inch, "Heat map of the loss (grey: not computed)"); err != nil {
			return nil, err
		}
		if acc, ok := s.Values["acc"]; ok && anyFinite(acc) {
			ha := render.NewHeatMap(gridOf(s, "acc"))
			ha.Title, ha.XLabel, ha.YLabel, ha.ColorMap, ha.ZLabel = title+" — accuracy", ri.xLabel(), "y direction", cm, "accuracy"
			ha.Log = false
			if err := save("accuracy", ha, 5.6*vg.Inch, 4.6*vg.Inch, "Heat map of the accuracy"); err != nil {
				return nil, err
			}
		}
		if ratio, ok := s.Values["ratio"]; ok && anyFinite(ratio) {
			// The convexity map, drawn as the reference draws it: |λmin/λmax|
			// from 0 to 0.5, and the signed ratio beside it.
			hc := render.NewHeatMap(gridOf(s, "ratio"))
			hc.Title, hc.XLabel, hc.YLabel, hc.ColorMap, hc.ZLabel = title+" — convexity", ri.xLabel(), "y direction", cm, "|λmin/λmax|"
			hc.Log, hc.Min, hc.Max = false, 0, 0.5
			if err := save("convexity", hc, 5.6*vg.Inch, 4.6*vg.Inch, "|λmin/λmax|: small where positive curvature dominates"); err != nil {
				return nil, err
			}
			signed := &render.Grid{Xs: s.Grid.X.Coords(), Ys: s.Grid.Y.Coords(), Values: make([]float64, len(ratio))}
			for i := range signed.Values {
				signed.Values[i] = s.Values["lambda_min"][i] / s.Values["lambda_max"][i]
			}
			hs := render.NewHeatMap(signed)
			hs.Title, hs.XLabel, hs.YLabel, hs.ColorMap, hs.ZLabel = title+" — λmin/λmax", ri.xLabel(), "y direction", cm, "λmin/λmax"
			hs.Log = false
			if err := save("ratio_signed", hs, 5.6*vg.Inch, 4.6*vg.Inch, "λmin/λmax, signed"); err != nil {
				return nil, err
			}
		}
		sf := render.NewSurface(g)
		sf.Title, sf.XLabel, sf.YLabel, sf.ColorMap = title+" — loss surface", "x", "y", cm
		sf.Azimuth, sf.Elevation, sf.Clip = o.azimuth, o.elevation, o.clip
		// Heights on a log scale when the loss spans decades, as the colour
		// scales do: otherwise the far corners flatten the basin.
		_, sf.Log = render.AutoLevels(s.Values["loss"], 10)
		o.applyScale(&sf.Log)
		if err := save("surface3d", sf, 6*vg.Inch, 5*vg.Inch, "The loss surface in 3-D"); err != nil {
			return nil, err
		}
		vtp := filepath.Join(out, "surface.vtp")
		var buf bytes.Buffer
		if err := render.WriteVTP(&buf, g, render.VTPOptions{Clip: o.clip, Log: o.log, Refine: o.vtpRefine}); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(vtp, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		d.files = append(d.files, vtp)
	} else {
		curves := []render.Curve{curveOf(s, labelOf(out, ri))}
		for _, other := range others {
			os, err := sweep.ReadSurface(filepath.Join(other, sweep.SurfaceName))
			if err != nil {
				return nil, err
			}
			if os.Grid.Is2D() {
				return nil, fmt.Errorf("%s is a 2-D run; only 1-D runs overlay as curves", other)
			}
			curves = append(curves, curveOf(os, labelOf(other, readRunInfo(other))))
		}
		if len(curves) == 1 {
			curves[0].Label = "" // the title names the model; no legend for one curve
		}
		cv := render.NewCurves(curves...)
		cv.XLabel = ri.xLabel()
		cv.Title = title
		if len(others) > 0 {
			cv.Title = ""
		}
		cv.LogLoss = o.log
		if err := save("curve", cv, 5.5*vg.Inch, 5*vg.Inch, "Loss and accuracy along the direction"); err != nil {
			return nil, err
		}
		if ratio, ok := s.Values["ratio"]; ok && anyFinite(ratio) && len(others) == 0 {
			c := render.Curve{}
			for i, x := range s.Grid.X.Coords() {
				if s.Mask[i] {
					c.X, c.Loss = append(c.X, x), append(c.Loss, ratio[i])
				}
			}
			rc := render.NewCurves(c)
			rc.Title, rc.XLabel, rc.LossLabel = title+" — convexity", ri.xLabel(), "|λmin/λmax|"
			if err := save("convexity", rc, 5.5*vg.Inch, 3.5*vg.Inch, "|λmin/λmax| along the direction"); err != nil {
				return nil, err
			}
		}
	}
	if !o.noReport {
		path := filepath.Join(out, "report.html")
		if err := report.WriteFile(path, reportOf(s, ri, d.pngs)); err != nil {
			return nil, err
		}
		d.files = append(d.files, path)
	}
	return d, nil
}

func (o plotOptions) levels() []float64 {
	if math.IsNaN(o.vmin) {
		return nil
	}
	return render.StepLevels(o.vmin, o.vmax, o.vlevel)
}

// applyScale overrides a renderer's automatic log choice when a flag asks.
func (o plotOptions) applyScale(log *bool) {
	if o.log {
		*log = true
	}
	if o.linear {
		*log = false
	}
}

func labelOf(out string, ri runInfo) string {
	if ri.model != "" {
		return ri.model
	}
	return filepath.Base(out)
}

func anyFinite(v []float64) bool {
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return true
		}
	}
	return false
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

// curveOf is a 1-D surface as a curve; a partial run keeps only its
// computed points, so that the line joins them.
func curveOf(s *sweep.Surface, label string) render.Curve {
	c := render.Curve{Label: label}
	acc, hasAcc := s.Values["acc"]
	hasAcc = hasAcc && anyFinite(acc)
	for i, x := range s.Grid.X.Coords() {
		if !s.Mask[i] {
			continue
		}
		c.X = append(c.X, x)
		c.Loss = append(c.Loss, s.Values["loss"][i])
		if hasAcc {
			c.Acc = append(c.Acc, acc[i])
		}
	}
	return c
}

func reportOf(s *sweep.Surface, ri runInfo, pngs []report.Image) *report.Report {
	r := &report.Report{
		Title:    "lsweep — " + labelOf("run", ri),
		Surface:  &report.Surface{X: s.Grid.X.Coords(), Values: s.Values},
		Images:   pngs,
		Manifest: ri.manifest,
	}
	if s.Grid.Is2D() {
		r.Surface.Y = s.Grid.Y.Coords()
	}
	_, r.Surface.Log = render.AutoLevels(s.Values["loss"], 10)
	if i, v := s.Min("loss"); i >= 0 {
		x, y := s.Grid.Coord(i)
		if s.Grid.Is2D() {
			r.Summary = append(r.Summary, fmt.Sprintf("Minimum loss %.6g at (%.4g, %.4g).", v, x, y))
		} else {
			r.Summary = append(r.Summary, fmt.Sprintf("Minimum loss %.6g at %.4g.", v, x))
		}
	}
	if c := centre(s); c >= 0 {
		r.Summary = append(r.Summary, fmt.Sprintf("Loss at the centre %.6g, accuracy %.4f.", s.Values["loss"][c], s.Values["acc"][c]))
	}
	r.Summary = append(r.Summary, fmt.Sprintf("%d of %d points computed.", s.Count(), s.Grid.Len()))
	return r
}
