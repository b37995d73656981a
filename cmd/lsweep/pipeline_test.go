package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/pipeline"
	"github.com/lsweep/lsweep/sweep"
)

// TestCLIEqualsLibrary: "lsweep run" and pipeline.Run with the same
// settings write the same files, byte for byte, defaults included (the x
// axis and the direction type of an interpolation are left to the
// library in both). The command runs in this process, so that both
// manifests record the same build.
func TestCLIEqualsLibrary(t *testing.T) {
	testenv.RequireRuntime(t)
	const (
		digits = "../../fixtures/testdata/digits/"
		data   = digits + "data.npz"
	)
	dir := t.TempDir()
	other := filepath.Join(dir, "other.onnx")
	if err := fixtures.RescaledMLP(digits+"mlp_softmax.onnx", other, "fc1", "fc2", 2); err != nil {
		t.Fatal(err)
	}
	hess := landscape.HessianOptions{Samples: 16, MaxIter: 8}
	cases := []struct {
		name string
		args []string
		cfg  pipeline.Config
	}{
		{
			"surface", []string{digits + "resnet_skip.onnx", data, "--x", "-1:1:5", "--y", "-0.5:0.5:3", "--samples", "60", "--seed", "3", "--palette", "magma", "--format", "png,svg"},
			pipeline.Config{
				Landscape: landscape.Config{Model: digits + "resnet_skip.onnx", Data: data, Seed: 3},
				Grid:      sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 5}, Y: sweep.Axis{Min: -0.5, Max: 0.5, N: 3}},
				Plot:      &pipeline.PlotOptions{Formats: []string{"png", "svg"}, Palette: "magma", Azimuth: -60, Elevation: 30, VTPRefine: 1},
			},
		},
		{
			"interpolation", []string{digits + "mlp_softmax.onnx", data, "--model2", other, "--samples", "60"},
			pipeline.Config{Landscape: landscape.Config{Model: digits + "mlp_softmax.onnx", Data: data, Model2: other}},
		},
		{
			"convexity", []string{digits + "mlp_softmax.onnx", data, "--x", "-1:1:3", "--samples", "60", "--hessian", "--hessian-samples", "16", "--hessian-max-iter", "8"},
			pipeline.Config{
				Landscape: landscape.Config{Model: digits + "mlp_softmax.onnx", Data: data},
				Grid:      sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 3}},
				Hessian:   &hess,
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cli, lib := filepath.Join(dir, c.name+"-cli"), filepath.Join(dir, c.name+"-lib")
			root := newRootCommand()
			root.SetArgs(append([]string{"run", "--quiet", "--out", cli}, c.args...))
			root.SetOut(new(bytes.Buffer))
			root.SetErr(new(bytes.Buffer))
			if err := root.ExecuteContext(context.Background()); err != nil {
				t.Fatalf("lsweep run: %v", err)
			}
			cfg := c.cfg
			cfg.Out = lib
			cfg.Landscape.Dataset.Samples = 60
			if _, err := pipeline.Run(context.Background(), cfg); err != nil {
				t.Fatalf("pipeline.Run: %v", err)
			}
			a, b := files(t, cli), files(t, lib)
			if !slices.Equal(a, b) {
				t.Fatalf("the command wrote %v, the library %v", a, b)
			}
			for _, name := range a {
				x, _ := os.ReadFile(filepath.Join(cli, name))
				y, _ := os.ReadFile(filepath.Join(lib, name))
				if !bytes.Equal(x, y) {
					t.Errorf("%s differs: %d bytes from the command, %d from the library", name, len(x), len(y))
				}
			}
			t.Logf("%d files equal: %v", len(a), a)
		})
	}
}

// files lists the files of a folder.
func files(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}
