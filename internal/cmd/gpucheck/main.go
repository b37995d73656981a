// Command gpucheck is the Go half of scripts/gpu-check.sh: it writes a
// CIFAR ResNet with random weights and random CIFAR-shaped data, and
// compares the loss of two surfaces where both have points.
//
//	gpucheck gen -blocks 9 -samples 1024 DIR   DIR/resnet.onnx, DIR/data.npz
//	gpucheck compare -tol 1e-4 A.npz B.npz     exit 1 beyond the tolerance
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/npz"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: gpucheck gen|compare ...")
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "compare":
		err = compare(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q (want gen or compare)", os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "gpucheck:", msg)
	os.Exit(2)
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	blocks := fs.Int("blocks", 9, "basic blocks per stage: 9 is ResNet-56")
	samples := fs.Int("samples", 1024, "random samples in data.npz")
	fs.Parse(args)
	if fs.NArg() != 1 || *blocks < 1 || *samples < 1 {
		return fmt.Errorf("gen: want -blocks >= 1, -samples >= 1 and one folder")
	}
	dir := fs.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m := fixtures.ResNetCIFAR(*blocks, 1)
	b, err := proto.Marshal(m.Model)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "resnet.onnx"), b, 0o644); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(2, 3))
	x := make([]float64, *samples*3*32*32)
	for i := range x {
		x[i] = float64(float32(r.NormFloat64()))
	}
	y := make([]float64, *samples)
	for i := range y {
		y[i] = float64(r.IntN(10))
	}
	params := 0
	for _, v := range m.Values {
		params += len(v.Data)
	}
	fmt.Printf("%s: %d float values in the weights, %d samples\n", m.Name, params, *samples)
	return npz.WriteFile(filepath.Join(dir, "data.npz"), []npz.Entry{
		{Name: "x", Array: &npz.Array{Shape: []int{*samples, 3, 32, 32}, DType: "float32", Data: x}},
		{Name: "y", Array: &npz.Array{Shape: []int{*samples}, DType: "int64", Data: y}},
	})
}

// surface is what compare reads of a surface.npz.
type surface struct {
	xs, ys     []float64
	loss, mask []float64
}

func readSurface(path string) (*surface, error) {
	m, err := npz.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"xcoordinates", "ycoordinates", "loss", "mask"} {
		if m[k] == nil {
			return nil, fmt.Errorf("%s: no %s (a 2-D surface is needed)", path, k)
		}
	}
	return &surface{m["xcoordinates"].Data, m["ycoordinates"].Data, m["loss"].Data, m["mask"].Data}, nil
}

func compare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	tol := fs.Float64("tol", 1e-4, "largest relative difference of the loss allowed")
	fs.Parse(args)
	if fs.NArg() != 2 {
		return fmt.Errorf("compare: want two surface.npz files")
	}
	a, err := readSurface(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := readSurface(fs.Arg(1))
	if err != nil {
		return err
	}
	// Coordinates match when they are the same point of two linspaces.
	index := func(vs []float64, v float64) int {
		for i, w := range vs {
			if math.Abs(v-w) <= 1e-9*max(1, math.Abs(v)) {
				return i
			}
		}
		return -1
	}
	worst, worstAt, n := 0.0, "", 0
	for by, y := range b.ys {
		ay := index(a.ys, y)
		for bx, x := range b.xs {
			ax := index(a.xs, x)
			if ax < 0 || ay < 0 {
				continue
			}
			ia, ib := ay*len(a.xs)+ax, by*len(b.xs)+bx
			if a.mask[ia] == 0 || b.mask[ib] == 0 {
				continue
			}
			la, lb := a.loss[ia], b.loss[ib]
			rel := math.Abs(la-lb) / max(math.Abs(lb), 1e-12)
			if math.IsNaN(rel) {
				rel = math.Inf(1)
			}
			n++
			if rel >= worst {
				worst, worstAt = rel, fmt.Sprintf("(%g, %g): %.9g and %.9g", x, y, la, lb)
			}
		}
	}
	if n == 0 {
		return fmt.Errorf("compare: the surfaces share no computed point")
	}
	fmt.Printf("compared %d points: max relative difference of the loss %.3g at %s (tolerance %g)\n", n, worst, worstAt, *tol)
	if worst > *tol {
		fmt.Fprintf(os.Stderr, "gpucheck: the surfaces disagree beyond %g\n", *tol)
		os.Exit(1)
	}
	return nil
}
