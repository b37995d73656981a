package pipeline

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot/vg"

	"github.com/lsweep/lsweep/onnx"
	"github.com/lsweep/lsweep/render"
)

// WeightStats are the norms of a model's perturbable weights (those of
// Conv, ConvTranspose, Gemm and MatMul).
type WeightStats struct {
	Model   string  `json:"model"`
	Tensors int     `json:"tensors"`
	Params  int     `json:"params"`
	L2      float64 `json:"l2"`
	RMS     float64 `json:"rms"`
	MaxAbs  float64 `json:"max_abs"`
	values  []float64
}

// modelWeights reads the perturbable weights of the model at path.
func modelWeights(path string) (*WeightStats, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	ws, err := m.Perturbable()
	if err != nil {
		return nil, err
	}
	if err := m.CheckStorage(); err != nil {
		return nil, err
	}
	st := &WeightStats{Model: path, Tensors: len(ws)}
	var ss float64
	for _, w := range ws {
		v, err := m.Value(w.Name)
		if err != nil {
			return nil, err
		}
		for _, x := range v {
			ss += x * x
			st.MaxAbs = max(st.MaxAbs, math.Abs(x))
		}
		st.values = append(st.values, v...)
	}
	st.Params = len(st.values)
	st.L2 = math.Sqrt(ss)
	st.RMS = math.Sqrt(ss / float64(max(1, st.Params)))
	return st, nil
}

// WeightsOptions configure Weights.
type WeightsOptions struct {
	Out  string // the picture file (.png, .svg or .pdf)
	Bins int    // histogram bins, at least 2
	Log  bool   // log scale for the density
}

// WeightsResult is what Weights measured and drew.
type WeightsResult struct {
	Stats []*WeightStats
	// Lo and Hi bound the histograms: the pooled values' 0.05% and 99.95%
	// quantiles; Outside counts the values beyond them, not drawn.
	Lo, Hi  float64
	Outside int
}

// Weights measures the perturbable weights of models and draws their
// distributions, overlaid, into opts.Out: the paper's explanation of why
// unnormalised interpolation plots mislead.
func Weights(paths []string, opts WeightsOptions) (*WeightsResult, error) {
	if opts.Bins < 2 {
		return nil, fmt.Errorf("pipeline: %d histogram bins: want at least 2", opts.Bins)
	}
	var stats []*WeightStats
	var pooled []float64
	for _, p := range paths {
		st, err := modelWeights(p)
		if err != nil {
			return nil, err
		}
		pooled = append(pooled, st.values...)
		stats = append(stats, st)
	}
	// The range holds all but the outermost 0.05% of the weights on each
	// side, so that a few large weights do not squeeze the distributions
	// into a spike; the text says how many were left out.
	slices.Sort(pooled)
	lo, hi := pooled[len(pooled)*5/10000], pooled[(len(pooled)-1)-len(pooled)*5/10000]
	if !(hi > lo) {
		lo, hi = pooled[0], pooled[len(pooled)-1]
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	outside := 0
	// One set of bins for all models, so that the curves compare.
	width := (hi - lo) / float64(opts.Bins)
	var curves []render.Curve
	for _, st := range stats {
		counts := make([]float64, opts.Bins)
		for _, x := range st.values {
			if x < lo || x > hi {
				outside++
				continue
			}
			counts[min(opts.Bins-1, int((x-lo)/width))]++
		}
		c := render.Curve{Label: filepath.Base(st.Model)}
		for b, n := range counts {
			density := n / (float64(len(st.values)) * width)
			if opts.Log && density == 0 {
				density = math.NaN()
			}
			// Steps: the density holds across each bin.
			c.X = append(c.X, lo+float64(b)*width, lo+float64(b+1)*width)
			c.Loss = append(c.Loss, density, density)
		}
		curves = append(curves, c)
	}
	cv := render.NewCurves(curves...)
	cv.XLabel, cv.LossLabel, cv.LogLoss = "weight value", "density", opts.Log
	if len(curves) == 1 {
		cv.Title = curves[0].Label
		curves[0].Label = ""
	}
	if err := render.Save(cv, opts.Out, 6*vg.Inch, 4*vg.Inch); err != nil {
		return nil, err
	}
	return &WeightsResult{Stats: stats, Lo: lo, Hi: hi, Outside: outside}, nil
}
