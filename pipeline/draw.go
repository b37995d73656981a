package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/lsweep/lsweep/internal/atomicfile"
	"github.com/lsweep/lsweep/render"
	"github.com/lsweep/lsweep/report"
	"github.com/lsweep/lsweep/sweep"
)

// Scale chooses the colour scale and contour levels of the pictures.
type Scale string

// Scales. The zero value means ScaleAuto.
const (
	ScaleAuto   Scale = ""       // log-spaced when the loss spans more than two decades
	ScaleLog    Scale = "log"    // always log
	ScaleLinear Scale = "linear" // always linear
)

// Levels fix the contour levels and the loss's colour scale of a 2-D run's
// pictures, so that the pictures of several runs drawn with the same Levels
// compare: levels Min, Min+Step, ... Max, as the reference implementation's
// vmin, vmax and vlevel give them, or, with Step 0, round numbers from Min
// to Max (log-spaced on a log scale). The loss's colours run from Min to Max
// in the contours, the filled contours and the heat map (the reference's
// heat map takes vmin and vmax too). Unless the Scale says otherwise, the
// scale is log when Min > 0 and Max is more than two decades above it,
// whatever the data.
type Levels struct{ Min, Max, Step float64 }

// PlotOptions style the pictures of a run. NewPlotOptions returns the
// defaults; a nil *PlotOptions means them.
type PlotOptions struct {
	Formats   []string // picture formats: png, svg, pdf
	Levels    *Levels  // contour levels; nil: round numbers chosen from the loss
	Scale     Scale
	Palette   string  // a render.ColorMapNamed name, also the report's 3-D view's colours
	Azimuth   float64 // 3-D view, degrees
	Elevation float64 // 3-D view, degrees
	Clip      float64 // 3-D view and ParaView file: cap the loss (0: no cap)
	VTPRefine int     // ParaView file: interpolate to a grid this many times finer
	NoReport  bool    // draw no report.html
}

// NewPlotOptions returns the default plot options: PNG pictures in viridis,
// automatic levels and scale, render.Surface's view.
func NewPlotOptions() *PlotOptions {
	sf := render.NewSurface(nil)
	return &PlotOptions{Formats: []string{"png"}, Palette: render.Viridis().Name, Azimuth: sf.Azimuth, Elevation: sf.Elevation, VTPRefine: 1}
}

// Check returns an error naming an option that is out of range.
func (o *PlotOptions) Check() error {
	if err := checkFormats(o.Formats); err != nil {
		return err
	}
	switch o.Scale {
	case ScaleAuto, ScaleLog, ScaleLinear:
	default:
		return fmt.Errorf("unknown scale %q (want log, linear or none for automatic)", o.Scale)
	}
	if l := o.Levels; l != nil {
		if !(l.Max > l.Min) || math.IsInf(l.Max-l.Min, 0) {
			return fmt.Errorf("contour levels from %g to %g: want finite values, the first below the second", l.Min, l.Max)
		}
		if !(l.Step >= 0) || math.IsInf(l.Step, 0) {
			return fmt.Errorf("contour level step %g: want a finite step > 0, or 0 for round numbers", l.Step)
		}
		if _, log := o.fixed(); log && l.Min <= 0 {
			return fmt.Errorf("contour levels from %g on a log scale: want min > 0", l.Min)
		}
	}
	if _, err := render.ColorMapNamed(o.Palette); err != nil {
		return err
	}
	if o.VTPRefine < 1 {
		return fmt.Errorf("VTP refinement %d: want 1 or more", o.VTPRefine)
	}
	return nil
}

// fixed returns the contour levels and the scale that o.Levels give; nil
// when they are not set.
func (o *PlotOptions) fixed() (levels []float64, log bool) {
	l := o.Levels
	if l == nil {
		return nil, false
	}
	log = render.SpansDecades(l.Min, l.Max)
	o.scaled(&log)
	if l.Step > 0 {
		return render.StepLevels(l.Min, l.Max, l.Step), log
	}
	return render.RoundLevels(l.Min, l.Max, 10, log), log
}

// lossLog reports whether a loss surface is drawn on a log scale: that of
// o.Levels when they are set, else the Scale's, else when the loss spans
// more than two decades.
func (o *PlotOptions) lossLog(loss []float64) bool {
	if o.Levels != nil {
		_, log := o.fixed()
		return log
	}
	_, log := render.AutoLevels(loss, 10)
	o.scaled(&log)
	return log
}

// scaled overrides a renderer's automatic log choice when asked.
func (o *PlotOptions) scaled(log *bool) {
	switch o.Scale {
	case ScaleLog:
		*log = true
	case ScaleLinear:
		*log = false
	}
}

// runInfo is what the pictures say about a run, from its manifest.
type runInfo struct {
	model    string
	interp   bool // x is a model difference
	manifest *Manifest
	traj     *TrajectoryFile // the path, when the folder holds a trajectory
}

func readRunInfo(out string) runInfo {
	m, err := ReadManifest(out)
	if err != nil {
		return runInfo{}
	}
	ri := runInfo{interp: m.Interpolation(), manifest: m}
	if m.Info.Model != "" {
		ri.model = filepath.Base(m.Info.Model)
	}
	ri.traj, _ = ReadTrajectory(out)
	return ri
}

func (ri runInfo) xLabel() string {
	switch {
	case ri.interp:
		return "interpolation α (0: model, 1: model2)"
	case ri.traj != nil:
		return pcLabel(1, ri.traj.ExplainedVarianceRatio[0])
	}
	return "x direction"
}

func (ri runInfo) yLabel() string {
	if ri.traj != nil {
		return pcLabel(2, ri.traj.ExplainedVarianceRatio[1])
	}
	return "y direction"
}

func (ri runInfo) label(out string) string {
	if ri.model != "" {
		return ri.model
	}
	return filepath.Base(out)
}

// overlayLabels names the overlaid curves of the runs in outs: each by its
// model's file name, or its folder's when it names none; a name that several
// runs share (one model on two datasets, or along two kinds of direction)
// gets the run's folder added, "model (folder)", so that the legend tells
// the curves apart.
func overlayLabels(outs []string, infos []runInfo) []string {
	labels := make([]string, len(outs))
	count := map[string]int{}
	for i, out := range outs {
		labels[i] = infos[i].label(out)
		count[labels[i]]++
	}
	for i, out := range outs {
		if count[labels[i]] > 1 {
			labels[i] = fmt.Sprintf("%s (%s)", labels[i], filepath.Base(filepath.Clean(out)))
		}
	}
	return labels
}

// Draw draws every picture of the output folder out into it and, unless
// o.NoReport, its report page, and returns the files written. When out is
// a 1-D run, others are further 1-D runs whose curves are overlaid on its
// curve picture; when it is a 2-D run, others are further 2-D runs, each
// drawn into its own folder, all with the same contour levels and colour
// scale (o.Levels, or those of the range of all their losses), so that
// their pictures compare. A partial run draws its contours and 3-D view on
// the finest complete lattice of the coarse-to-fine order.
func Draw(out string, others []string, o *PlotOptions) ([]string, error) {
	if o == nil {
		o = NewPlotOptions()
	}
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	s, err := readDrawable(out)
	if err != nil {
		return nil, err
	}
	if s.Grid.Is2D() && len(others) > 0 {
		return drawAlike(out, s, others, o)
	}
	return drawRun(out, s, others, o)
}

// drawRun is Draw of the surface s of the output folder out, with o
// checked.
func drawRun(out string, s *sweep.Surface, others []string, o *PlotOptions) ([]string, error) {
	d := &drawing{out: out, o: o, ri: readRunInfo(out)}
	d.cm, _ = render.ColorMapNamed(o.Palette)
	var err error
	if s.Grid.Is2D() {
		err = d.surface(s)
	} else {
		err = d.curves(s, others)
	}
	if err != nil {
		return nil, err
	}
	if !o.NoReport {
		path := filepath.Join(out, "report.html")
		if err := report.WriteFile(path, reportOf(s, d)); err != nil {
			return nil, err
		}
		d.files = append(d.files, path)
	}
	return d.files, nil
}

// readDrawable reads the surface of the output folder out, which must have
// a point computed.
func readDrawable(out string) (*sweep.Surface, error) {
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
	return s, nil
}

// drawAlike draws the 2-D run s in out and the others, each into its
// folder, with the same levels and colour scale: o.Levels, or round levels
// over the range of all their losses (from the smallest positive one when
// they span decades).
func drawAlike(out string, s *sweep.Surface, others []string, o *PlotOptions) ([]string, error) {
	outs, surfaces := append([]string{out}, others...), []*sweep.Surface{s}
	for _, other := range others {
		sf, err := readDrawable(other)
		if err != nil {
			return nil, err
		}
		if !sf.Grid.Is2D() {
			return nil, fmt.Errorf("%s is a 1-D run: drawing runs alike needs 2-D runs only (1-D runs are overlaid on one curve picture)", other)
		}
		surfaces = append(surfaces, sf)
	}
	alike := *o
	if alike.Levels == nil {
		var losses []float64
		for _, s := range surfaces {
			losses = append(losses, s.Values["loss"]...)
		}
		if levels, log := render.AutoLevels(losses, 10); len(levels) > 1 {
			// The scale is decided here, on the losses, not again on the
			// round range of the levels.
			o.scaled(&log)
			if log && levels[0] <= 0 {
				return nil, fmt.Errorf("the runs' losses reach %g: no log scale for them (drop --log)", levels[0])
			}
			alike.Levels = &Levels{Min: levels[0], Max: levels[len(levels)-1]}
			alike.Scale = ScaleLinear
			if log {
				alike.Scale = ScaleLog
			}
		}
	}
	var files []string
	for i, out := range outs {
		f, err := drawRun(out, surfaces[i], nil, &alike)
		if err != nil {
			return nil, err
		}
		files = append(files, f...)
	}
	return files, nil
}

// drawing is one Draw under way.
type drawing struct {
	out   string
	o     *PlotOptions
	ri    runInfo
	cm    *render.ColorMap
	files []string
	pngs  []report.Image
}

// save writes a picture in every format asked for; its PNG goes into the
// report.
func (d *drawing) save(name string, dr render.Drawer, w, h vg.Length, caption string) error {
	for _, f := range d.o.Formats {
		path := filepath.Join(d.out, name+"."+strings.ToLower(f))
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

// surface draws a 2-D run. The heat maps show every computed point, with
// gaps; the contours and the 3-D view use the complete lattice.
func (d *drawing) surface(s *sweep.Surface) error {
	g := completeGrid(s, "loss")
	if g == nil {
		return fmt.Errorf("%s: %d of %d points computed, too few to draw yet (the four corners are the first)", d.out, s.Count(), s.Grid.Len())
	}
	o, cm, title, xl, yl := d.o, d.cm, d.ri.model, d.ri.xLabel(), d.ri.yLabel()
	var path []plot.Plotter
	if t := d.ri.traj; t != nil {
		path = []plot.Plotter{trajectoryPath(t)}
	}
	dotted := ""
	if dots := estimatedDots(s); dots != nil {
		path = append(path, dots)
		dotted = " (grey dots: points interpolated, not computed)"
	}
	// Fixed levels fix the colour scale too, so that runs drawn with the
	// same levels compare.
	levels, fixedLog := o.fixed()
	c := render.NewContour(g)
	c.Title, c.XLabel, c.YLabel, c.ColorMap, c.Overlays = title+" — loss contours", xl, yl, cm, path
	o.scaled(&c.Log)
	if levels != nil {
		c.Levels, c.Log, c.Min, c.Max = levels, fixedLog, o.Levels.Min, o.Levels.Max
	}
	caption := "Contour lines of the loss"
	if d.ri.traj != nil {
		caption += ", and the training path (arrows: the way training went)"
	}
	caption += dotted
	if err := d.save("contour", c, 5*vg.Inch, 4.6*vg.Inch, caption); err != nil {
		return err
	}
	fc := render.NewFilledContour(g)
	fc.Title, fc.XLabel, fc.YLabel, fc.ColorMap, fc.ZLabel, fc.Overlays = title+" — loss", xl, yl, cm, "loss", path
	o.scaled(&fc.Log)
	if levels != nil {
		fc.Levels, fc.Log, fc.Min, fc.Max = levels, fixedLog, o.Levels.Min, o.Levels.Max
	}
	if err := d.save("filled_contour", fc, 5.6*vg.Inch, 4.6*vg.Inch, "Filled contours of the loss"+dotted); err != nil {
		return err
	}
	heat := func(channel, name, what, zlabel, caption string, set func(*render.HeatMap)) error {
		hm := render.NewHeatMap(gridOf(s, channel))
		hm.Title, hm.XLabel, hm.YLabel, hm.ColorMap, hm.ZLabel, hm.Overlays = title+" — "+what, xl, yl, cm, zlabel, path
		set(hm)
		return d.save(name, hm, 5.6*vg.Inch, 4.6*vg.Inch, caption)
	}
	if err := heat("loss", "heatmap", "loss", "loss", "Heat map of the loss (grey: not computed)"+dotted, func(hm *render.HeatMap) {
		o.scaled(&hm.Log)
		if levels != nil {
			hm.Log, hm.Min, hm.Max = fixedLog, o.Levels.Min, o.Levels.Max
		}
	}); err != nil {
		return err
	}
	if acc, ok := s.Values["acc"]; ok && anyFinite(acc) {
		if err := heat("acc", "accuracy", "accuracy", "accuracy", "Heat map of the accuracy", func(hm *render.HeatMap) { hm.Log = false }); err != nil {
			return err
		}
	}
	if ratio, ok := s.Values["ratio"]; ok && anyFinite(ratio) {
		// The convexity map, drawn as the reference draws it: |λmin/λmax|
		// from 0 to 0.5, and the signed ratio beside it.
		if err := heat("ratio", "convexity", "convexity", "|λmin/λmax|", "|λmin/λmax|: small where positive curvature dominates",
			func(hm *render.HeatMap) { hm.Log, hm.Min, hm.Max = false, 0, 0.5 }); err != nil {
			return err
		}
		signed := &render.Grid{Xs: s.Grid.X.Coords(), Ys: s.Grid.Y.Coords(), Values: make([]float64, len(ratio))}
		for i := range signed.Values {
			signed.Values[i] = s.Values["lambda_min"][i] / s.Values["lambda_max"][i]
		}
		hs := render.NewHeatMap(signed)
		hs.Title, hs.XLabel, hs.YLabel, hs.ColorMap, hs.ZLabel = title+" — λmin/λmax", xl, yl, cm, "λmin/λmax"
		hs.Log = false
		if err := d.save("ratio_signed", hs, 5.6*vg.Inch, 4.6*vg.Inch, "λmin/λmax, signed"); err != nil {
			return err
		}
	}
	sf := render.NewSurface(g)
	sf.Title, sf.XLabel, sf.YLabel, sf.ColorMap = title+" — loss surface", "x", "y", cm
	sf.Azimuth, sf.Elevation, sf.Clip = o.Azimuth, o.Elevation, o.Clip
	// Heights on a log scale when the loss spans decades, as the colour
	// scales do: otherwise the far corners flatten the basin.
	sf.Log = o.lossLog(s.Values["loss"])
	if err := d.save("surface3d", sf, 6*vg.Inch, 5*vg.Inch, "The loss surface in 3-D"); err != nil {
		return err
	}
	vtp := filepath.Join(d.out, "surface.vtp")
	var buf bytes.Buffer
	if err := render.WriteVTP(&buf, g, render.VTPOptions{Clip: o.Clip, Log: o.Scale == ScaleLog, Refine: o.VTPRefine}); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(vtp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	d.files = append(d.files, vtp)
	return nil
}

// curves draws a 1-D run, with the curves of others overlaid.
func (d *drawing) curves(s *sweep.Surface, others []string) error {
	outs := append([]string{d.out}, others...)
	infos := []runInfo{d.ri}
	curves := []render.Curve{curveOf(s, "")}
	for _, other := range others {
		os, err := sweep.ReadSurface(filepath.Join(other, sweep.SurfaceName))
		if err != nil {
			return err
		}
		if os.Grid.Is2D() {
			return fmt.Errorf("%s is a 2-D run; only 1-D runs overlay as curves", other)
		}
		curves = append(curves, curveOf(os, ""))
		infos = append(infos, readRunInfo(other))
	}
	for i, l := range overlayLabels(outs, infos) {
		curves[i].Label = l
	}
	if len(curves) == 1 {
		curves[0].Label = "" // the title names the model; no legend for one curve
	}
	cv := render.NewCurves(curves...)
	cv.XLabel = d.ri.xLabel()
	cv.Title = d.ri.model
	if len(others) > 0 {
		cv.Title = ""
	}
	cv.LogLoss = d.o.Scale == ScaleLog
	caption := "Loss and accuracy along the direction"
	if _, ok := s.Values[sweep.EstimatedChannel]; ok {
		caption += " (grey dots: points interpolated, not computed)"
	}
	if err := d.save("curve", cv, 5.5*vg.Inch, 5*vg.Inch, caption); err != nil {
		return err
	}
	if ratio, ok := s.Values["ratio"]; ok && anyFinite(ratio) && len(others) == 0 {
		c := render.Curve{}
		for i, x := range s.Grid.X.Coords() {
			if s.Mask[i] {
				c.X, c.Loss = append(c.X, x), append(c.Loss, ratio[i])
			}
		}
		rc := render.NewCurves(c)
		rc.Title, rc.XLabel, rc.LossLabel = d.ri.model+" — convexity", d.ri.xLabel(), "|λmin/λmax|"
		if err := d.save("convexity", rc, 5.5*vg.Inch, 3.5*vg.Inch, "|λmin/λmax| along the direction"); err != nil {
			return err
		}
	}
	return nil
}

func anyFinite(v []float64) bool {
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return true
		}
	}
	return false
}

// curveOf is a 1-D surface as a curve; a partial run keeps only its
// computed points, so that the line joins them.
func curveOf(s *sweep.Surface, label string) render.Curve {
	c := render.Curve{Label: label}
	acc, hasAcc := s.Values["acc"]
	hasAcc = hasAcc && anyFinite(acc)
	est := s.Values[sweep.EstimatedChannel]
	for i, x := range s.Grid.X.Coords() {
		if !s.Mask[i] {
			continue
		}
		c.X = append(c.X, x)
		c.Loss = append(c.Loss, s.Values["loss"][i])
		if hasAcc {
			c.Acc = append(c.Acc, acc[i])
		}
		if est != nil {
			c.Estimated = append(c.Estimated, est[i] == 1)
		}
	}
	return c
}

// estimatedDots returns small grey dots at the points of an adaptive run
// that were interpolated, or nil if there are none.
func estimatedDots(s *sweep.Surface) plot.Plotter {
	est, ok := s.Values[sweep.EstimatedChannel]
	if !ok {
		return nil
	}
	var xy plotter.XYs
	for i, e := range est {
		if s.Mask[i] && e == 1 {
			x, y := s.Grid.Coord(i)
			xy = append(xy, plotter.XY{X: x, Y: y})
		}
	}
	if len(xy) == 0 {
		return nil
	}
	sc, err := plotter.NewScatter(xy)
	if err != nil {
		return nil
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: color.NRGBA{R: 90, G: 90, B: 90, A: 110}, Radius: vg.Points(0.9), Shape: draw.CircleGlyph{}}
	return sc
}
