package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lsweep/lsweep/flatness"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/pipeline"
)

type compareOptions struct {
	runtime        runtimeOptions
	data           dataOptions
	directions     int
	points         int
	radius         float64
	rise           float64
	seed           uint64
	norm           string
	ignore         string
	dirType        string
	include        []string
	maxIncrease    float64
	thresholds     []string
	noise          float64
	hessian        bool
	hessianSamples int
	hvp            string
	json           bool
	markdown       string
	plot           bool
	quiet          bool
	baseLabel      string
	candidateLabel string
}

// thresholds turns --max-increase and --threshold into the thresholds of
// the checked metrics.
func (o *compareOptions) thresholdMap() (map[string]float64, error) {
	if !(o.maxIncrease >= 0) || math.IsInf(o.maxIncrease, 0) {
		return nil, fmt.Errorf("--max-increase %v: want a percentage, 0 or more", o.maxIncrease)
	}
	t := flatness.DefaultThresholds(o.maxIncrease)
	for _, arg := range o.thresholds {
		name, value, ok := strings.Cut(arg, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, fmt.Errorf("--threshold %q: want NAME=PCT or NAME=off", arg)
		}
		if _, known := flatness.Info(name); !known {
			return nil, fmt.Errorf("--threshold %q: unknown metric %q (want one of %s)", arg, name, strings.Join(flatness.Names(), ", "))
		}
		if strings.EqualFold(value, "off") {
			delete(t, name)
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(value, "%"), 64)
		if err != nil || !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("--threshold %q: %q is not a percentage, 0 or more", arg, value)
		}
		t[name] = v
	}
	return t, nil
}

// options turns the flags into comparison options; the checks of their
// ranges are the library's, reported with the flag's name.
func (o *compareOptions) options() (*pipeline.CompareOptions, error) {
	co := &pipeline.CompareOptions{Options: flatness.Options{
		Directions: o.directions, Points: o.points, Radius: o.radius, Rise: o.rise, Seed: o.seed,
		Noise: o.noise, Hessian: o.hessian,
	}}
	if o.hessian {
		co.LambdaMax = pipeline.Lanczos(landscape.HessianOptions{Samples: o.hessianSamples, HVP: o.hvp})
	}
	var err error
	if co.Thresholds, err = o.thresholdMap(); err != nil {
		return nil, err
	}
	if co.Normalize, err = normalizeOptions(o.norm, o.ignore, o.dirType, o.include); err != nil {
		return nil, err
	}
	// A zero option is the library's default; a zero flag is a value, out
	// of range for each of these.
	for _, z := range []struct {
		name string
		zero bool
	}{{"directions", o.directions == 0}, {"points", o.points == 0}, {"radius", o.radius == 0}, {"rise", o.rise == 0}, {"noise", o.noise == 0}} {
		if z.zero {
			return nil, fmt.Errorf("--%s 0: out of range (see lsweep compare --help)", z.name)
		}
	}
	if _, err := co.Options.Resolved(); err != nil {
		var oe *flatness.OptionError
		if errors.As(err, &oe) {
			return nil, fmt.Errorf("--%s: %s", oe.Option, oe.Problem)
		}
		return nil, err
	}
	if co.Engine, err = engineOptions(o.runtime, o.data); err != nil {
		return nil, err
	}
	co.Dataset = o.data.datasetOptions()
	return co, nil
}
