package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/pipeline"
)

// directionOptions are the flags that choose the directions of a landscape.
// Their zero values leave the defaults to the library.
type directionOptions struct {
	seed       uint64
	norm       string
	ignore     string
	dirType    string
	include    []string
	orthogonal bool
	model2     string
	model3     string
	directions string
}

func (o *directionOptions) AddFlags(cmd *cobra.Command) {
	def := normalize.Options{}.WithDefaults()
	f := cmd.Flags()
	f.Uint64Var(&o.seed, "seed", 0, "seed of the random directions")
	f.StringVar(&o.norm, "norm", "", "normalisation of random directions: filter, layer, weight or none (default "+string(def.Norm)+")")
	f.StringVar(&o.ignore, "ignore", "", "biasbn leaves biases and BatchNorm/LayerNorm parameters still; none moves them along d = th (default "+string(def.Ignore)+")")
	f.StringVar(&o.dirType, "dir-type", "", "weights moves trained tensors; states also moves BatchNorm running statistics (default "+string(def.DirType)+"; "+string(normalize.DirStates)+" with --model2)")
	addIncludeFlag(cmd, &o.include)
	f.BoolVar(&o.orthogonal, "orthogonal", false, "make the y direction orthogonal to the x direction")
	f.StringVar(&o.model2, "model2", "", "interpolate: the x direction is MODEL2 - MODEL (default x range "+pipeline.InterpolationAxis.String()+")")
	f.StringVar(&o.model3, "model3", "", "with --model2: the y direction is MODEL3 - MODEL (the plane through three models)")
	f.StringVar(&o.directions, "directions", "", "reuse the directions saved in this .npz file (directions.npz of an earlier run)")
}

// addIncludeFlag adds --include, the groups of tensors that random
// directions leave out unless asked.
func addIncludeFlag(cmd *cobra.Command, include *[]string) {
	cmd.Flags().StringSliceVar(include, "include", nil, "also perturb these tensors, normalised per row: embeddings (token embeddings, position tables and class tokens; left out by default)")
}

// normalizeOptions parses the normalisation flags; "" stays "", the
// library's default.
func normalizeOptions(norm, ignore, dirType string, include []string) (normalize.Options, error) {
	var o normalize.Options
	if err := o.ParseInclude(include); err != nil {
		return o, err
	}
	var err error
	if norm != "" {
		if o.Norm, err = normalize.ParseNorm(norm); err != nil {
			return o, err
		}
	}
	if ignore != "" {
		if o.Ignore, err = normalize.ParseIgnore(ignore); err != nil {
			return o, err
		}
	}
	if dirType != "" {
		if o.DirType, err = normalize.ParseDirType(dirType); err != nil {
			return o, err
		}
	}
	return o, nil
}

// config turns the flags into a landscape configuration.
func (o *directionOptions) config(modelPath, dataPath string, ro runtimeOptions, do dataOptions, twoD bool) (landscape.Config, error) {
	cfg := landscape.Config{
		Model: modelPath, Data: dataPath, TwoD: twoD,
		DirectionsFile: o.directions, Model2: o.model2, Model3: o.model3, Seed: o.seed,
	}
	var err error
	if cfg.Normalize, err = normalizeOptions(o.norm, o.ignore, o.dirType, o.include); err != nil {
		return cfg, err
	}
	cfg.Normalize.Orthogonalize = o.orthogonal
	if cfg.Engine, err = engineOptions(ro, do); err != nil {
		return cfg, err
	}
	cfg.Dataset = do.datasetOptions()
	return cfg, nil
}

// engineOptions joins the runtime and data flags that configure the engine.
func engineOptions(ro runtimeOptions, do dataOptions) (eo engine.Options, err error) {
	if do.batchSize < 0 {
		return eo, fmt.Errorf("--batch-size must be positive (or 0 for the default), got %d", do.batchSize)
	}
	eo = ro.engineOptions()
	eo.BatchSize, eo.Output, eo.Sequence = do.batchSize, do.output, do.sequence()
	if do.lossName != "" {
		if eo.Head, err = loss.ParseHead(do.lossName); err != nil {
			return eo, err
		}
	}
	return eo, nil
}

// plotFlags are the flags that style the pictures of a run.
type plotFlags struct {
	opts               pipeline.PlotOptions
	vmin, vmax, vlevel optionalFloat
	log, linear        bool
}

func (o *plotFlags) AddFlags(f flagSet) {
	def := pipeline.NewPlotOptions()
	f.StringSliceVar(&o.opts.Formats, "format", def.Formats, "picture formats: png, svg, pdf (comma-separated)")
	o.vmin, o.vmax, o.vlevel = unset, unset, unset
	f.Var(&o.vmin, "vmin", "lowest contour level and bottom of the loss's colour scale (with --vmax; to compare several runs' pictures)")
	f.Var(&o.vmax, "vmax", "highest contour level and top of the loss's colour scale")
	f.Var(&o.vlevel, "vlevel", "step between contour levels: vmin, vmin+vlevel, ... vmax (default: round numbers, log-spaced on a log scale)")
	f.BoolVar(&o.log, "log", false, "log colour scale and log-spaced levels (default: when the loss spans more than two decades)")
	f.BoolVar(&o.linear, "linear", false, "linear colour scale and levels even when the loss spans decades")
	f.StringVar(&o.opts.Palette, "palette", def.Palette, "colour map of the pictures and the report: viridis, magma, inferno, plasma, cividis (a _r suffix reverses)")
	f.Float64Var(&o.opts.Azimuth, "azimuth", def.Azimuth, "3-D view: azimuth in degrees")
	f.Float64Var(&o.opts.Elevation, "elevation", def.Elevation, "3-D view: elevation in degrees")
	f.Float64Var(&o.opts.Clip, "clip", def.Clip, "3-D view and ParaView file: cap the loss at this value (0: no cap)")
	f.IntVar(&o.opts.VTPRefine, "vtp-refine", def.VTPRefine, "ParaView file: interpolate to a grid this many times finer")
	f.BoolVar(&o.opts.NoReport, "no-report", false, "do not write report.html")
}

// optionalFloat is a number flag that may be left out: NaN (unset) until
// given, and shown without a default in the help.
type optionalFloat float64

var unset = optionalFloat(math.NaN())

func (v *optionalFloat) String() string {
	if v.unset() {
		return ""
	}
	return strconv.FormatFloat(float64(*v), 'g', -1, 64)
}

func (v *optionalFloat) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%q: want a finite number", s)
	}
	*v = optionalFloat(f)
	return nil
}

func (v *optionalFloat) Type() string { return "float" }

func (v *optionalFloat) unset() bool { return math.IsNaN(float64(*v)) }

// flagSet is the part of pflag.FlagSet the options use.
type flagSet interface {
	Var(value pflag.Value, name string, usage string)
	StringSliceVar(p *[]string, name string, value []string, usage string)
	Float64Var(p *float64, name string, value float64, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
	StringVar(p *string, name string, value string, usage string)
	IntVar(p *int, name string, value int, usage string)
}

// options returns the plot options the flags give, checked.
func (o *plotFlags) options() (*pipeline.PlotOptions, error) {
	p := o.opts
	switch {
	case o.log && o.linear:
		return nil, errors.New("--log and --linear contradict each other")
	case o.log:
		p.Scale = pipeline.ScaleLog
	case o.linear:
		p.Scale = pipeline.ScaleLinear
	}
	switch {
	case o.vmin.unset() != o.vmax.unset() || (o.vmin.unset() && !o.vlevel.unset()):
		return nil, errors.New("--vmin and --vmax go together (--vlevel, the step between levels, needs them)")
	case !o.vmin.unset():
		p.Levels = &pipeline.Levels{Min: float64(o.vmin), Max: float64(o.vmax)}
		if !o.vlevel.unset() {
			p.Levels.Step = float64(o.vlevel)
			if !(p.Levels.Step > 0) {
				return nil, fmt.Errorf("--vlevel %g: want a step > 0", p.Levels.Step)
			}
		}
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return &p, nil
}
