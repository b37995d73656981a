package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/pipeline"
)

const (
	trajDir  = "../../fixtures/testdata/trajectory/"
	trajData = "../../fixtures/testdata/digits/data.npz"
)

func trajCheckpoints() []string {
	var c []string
	for k := range 8 {
		c = append(c, fmt.Sprintf("%sckpt_%d.onnx", trajDir, k))
	}
	return c
}

// TestTrajectoryCLIEqualsLibrary: "lsweep trajectory" and
// pipeline.Trajectory write the same files, byte for byte.
func TestTrajectoryCLIEqualsLibrary(t *testing.T) {
	testenv.RequireRuntime(t)
	dir := t.TempDir()
	ckpts := trajCheckpoints()
	cli, lib := filepath.Join(dir, "cli"), filepath.Join(dir, "lib")
	root := newRootCommand()
	root.SetArgs(append([]string{"trajectory", "--quiet", "--out", cli, "--points", "5", "--samples", "60", ckpts[7], trajData}, ckpts...))
	var stdout bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(new(bytes.Buffer))
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("lsweep trajectory: %v", err)
	}
	cfg := pipeline.TrajectoryConfig{Final: ckpts[7], Data: trajData, Checkpoints: ckpts, Out: lib, Points: 5}
	cfg.Dataset.Samples = 60
	if _, err := pipeline.Trajectory(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	a, b := files(t, cli), files(t, lib)
	if !slices.Equal(a, b) {
		t.Fatalf("the command wrote %v, the library %v", a, b)
	}
	for _, name := range a {
		x, _ := os.ReadFile(filepath.Join(cli, name))
		y, _ := os.ReadFile(filepath.Join(lib, name))
		if name == pipeline.TrajectoryName || name == "manifest.json" || name == "report.html" {
			// They record the output folder's path.
			x = bytes.ReplaceAll(x, []byte(cli), []byte(lib))
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs: %d bytes from the command, %d from the library", name, len(x), len(y))
		}
	}
	for _, w := range []string{"explained variance", "ckpt_3.onnx", "contour.png"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("the printout does not say %q:\n%s", w, stdout.String())
		}
	}
}
