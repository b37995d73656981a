package flatness

import (
	"fmt"
	"maps"
	"math"

	"github.com/lsweep/lsweep/normalize"
)

// Defaults for the zero fields of Options.
const (
	DefaultDirections = 8   // random directions per model
	DefaultPoints     = 21  // points per slice, the centre included
	DefaultRadius     = 1.0 // slices span [-r, r] in units of the normalised direction
	DefaultRise       = 0.1 // loss increase whose distance rise_radius measures
	DefaultNoise      = 1.0 // width of the noise band in spreads across directions
)

// Options says how a comparison measures and judges: the directions, the
// slices and the verdict rule; the evaluation itself is configured by
// pipeline.CompareOptions. A nil *Options, and the zero value of each
// field, mean the defaults: DefaultDirections filter-normalised random
// directions from seed 0 (biases and BatchNorm parameters left still), slices
// of DefaultPoints points over [-DefaultRadius, DefaultRadius], rise_radius
// at DefaultRise, every sample of the data, and DefaultThresholds of
// DefaultMaxIncrease percent on the flatness metrics.
type Options struct {
	// Directions is the number of random directions, K, at least 2.
	Directions int
	// Points is the number of points per slice, odd and at least 3; the
	// slice along each direction is evaluated at Points equally spaced
	// coordinates over [-Radius, Radius], the centre among them.
	Points int
	// Radius is r, the half-width of the slices, in units of the
	// (normalised) directions: with filter normalisation, 1 moves every
	// filter by its own norm.
	Radius float64
	// Rise is the loss increase whose distance from the centre rise_radius
	// measures, in the loss's units.
	Rise float64

	// Seed seeds the directions: direction k is drawn by normalize.Random
	// from landscape.Generator(Seed, k), so that directions 0 and 1 are the
	// x and y directions of "lsweep run --seed Seed". Both models get the same
	// generators; when their weight tensors come in the same order with the
	// same sizes they get the same raw draws, which the normalisation then
	// scales to each model's filters.
	Seed uint64
	// Normalize says how directions are normalised and which tensors they
	// move; Orthogonalize is ignored.
	Normalize normalize.Options

	// Thresholds maps a metric's name to the largest worsening, in percent
	// of the base model's value, that passes; only the metrics it names
	// can fail the comparison. Nil means DefaultThresholds(DefaultMaxIncrease).
	// Values must be finite and at least 0.
	Thresholds map[string]float64
	// Noise is the width of the noise band in spreads across directions
	// (see Judge); 0 means DefaultNoise.
	Noise float64

	// Hessian asks for lambda_max, computed by pipeline.CompareOptions's
	// LambdaMax; without one the metric is reported unavailable
	// (ReasonNoHessian).
	Hessian bool
}

// Resolved returns a copy of o (the defaults if o is nil) with its zero
// fields set to their defaults, or an error naming a field that is out of
// range.
func (o *Options) Resolved() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Directions == 0 {
		r.Directions = DefaultDirections
	}
	if r.Points == 0 {
		r.Points = DefaultPoints
	}
	if r.Radius == 0 {
		r.Radius = DefaultRadius
	}
	if r.Rise == 0 {
		r.Rise = DefaultRise
	}
	if r.Noise == 0 {
		r.Noise = DefaultNoise
	}
	if r.Thresholds == nil {
		r.Thresholds = DefaultThresholds(DefaultMaxIncrease)
	} else {
		r.Thresholds = maps.Clone(r.Thresholds)
	}
	r.Normalize.Orthogonalize = false
	bad := func(option, format string, args ...any) error {
		return &OptionError{Option: option, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.Directions < 2:
		return r, bad("directions", "%d directions: want at least 2, to measure a spread across them", r.Directions)
	case r.Points < 3 || r.Points%2 == 0:
		return r, bad("points", "%d points per slice: want an odd number, at least 3, so that the centre is one of them", r.Points)
	case !(r.Radius > 0) || math.IsInf(r.Radius, 0):
		return r, bad("radius", "radius %v: want a positive number", r.Radius)
	case !(r.Rise > 0) || math.IsInf(r.Rise, 0):
		return r, bad("rise", "rise %v: want a positive loss increase", r.Rise)
	case !(r.Noise > 0) || math.IsInf(r.Noise, 0):
		return r, bad("noise", "noise %v: want a positive number of spreads", r.Noise)
	}
	if err := checkThresholds(r.Thresholds); err != nil {
		return r, err
	}
	for _, check := range []func() error{
		func() error { return parseIf(string(r.Normalize.Norm), normalize.ParseNorm) },
		func() error { return parseIf(string(r.Normalize.Ignore), normalize.ParseIgnore) },
		func() error { return parseIf(string(r.Normalize.DirType), normalize.ParseDirType) },
	} {
		if err := check(); err != nil {
			return r, err
		}
	}
	r.Normalize = r.Normalize.WithDefaults()
	return r, nil
}

// OptionError reports an option out of range. Option is its name in lower
// case, as lsweep compare's flag names it.
type OptionError struct {
	Option, Problem string
}

func (e *OptionError) Error() string { return "flatness: " + e.Problem }

func parseIf[T ~string](s string, parse func(string) (T, error)) error {
	if s == "" {
		return nil
	}
	_, err := parse(s)
	return err
}

// Coordinates returns the slice coordinates: n points equally spaced over
// [-r, r], exactly symmetric, with an exact 0 in the middle.
func Coordinates(n int, r float64) []float64 {
	x := make([]float64, n)
	c := n / 2
	for i := 1; i <= c; i++ {
		v := r * float64(i) / float64(c)
		x[c+i], x[c-i] = v, -v
	}
	return x
}
