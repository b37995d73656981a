package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/sweep"
	"google.golang.org/protobuf/proto"
)

func readSurface(t *testing.T, dir string) *sweep.Surface {
	t.Helper()
	s, err := sweep.ReadSurface(filepath.Join(dir, "surface.npz"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameSurface fails unless two surfaces hold exactly the same values.
func sameSurface(t *testing.T, a, b *sweep.Surface) {
	t.Helper()
	for _, ch := range []string{"loss", "acc"} {
		va, vb := a.Values[ch], b.Values[ch]
		if len(va) != len(vb) {
			t.Fatalf("%s: %d vs %d values", ch, len(va), len(vb))
		}
		for i := range va {
			if a.Mask[i] != b.Mask[i] || a.Mask[i] && va[i] != vb[i] {
				t.Fatalf("%s[%d]: %v (computed %v) vs %v (computed %v)", ch, i, va[i], a.Mask[i], vb[i], b.Mask[i])
			}
		}
	}
}

func evalJSON(t *testing.T, args ...string) (loss, acc float64) {
	t.Helper()
	r := run(t, append([]string{"eval", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("eval %v: exit %d: %s", args, r.code, r.stderr)
	}
	var got struct {
		Loss     float64 `json:"loss"`
		Accuracy float64 `json:"accuracy"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	return got.Loss, got.Accuracy
}

// TestRunAgreesWithEval: the centre of a surface is the untouched model's
// loss, and every sampled point of a non-square grid equals eval --at with
// the run's saved directions (so x is columns and y is rows).
func TestRunAgreesWithEval(t *testing.T) {
	requireRuntime(t)
	out := filepath.Join(t.TempDir(), "out")
	r := run(t, "run", digitsModel, digitsData, "--x", "-1:1:5", "--y", "-0.5:0.5:3", "--samples", "300", "--out", out, "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := readSurface(t, out)
	if s.Grid.X.N != 5 || s.Grid.Y.N != 3 {
		t.Fatalf("grid %+v", s.Grid)
	}
	centreLoss, _ := evalJSON(t, "--samples", "300", digitsModel, digitsData)
	c := 1*5 + 2 // iy = 1 (y = 0), ix = 2 (x = 0)
	if x, y := s.Grid.Coord(c); x != 0 || y != 0 || s.Values["loss"][c] != centreLoss {
		t.Errorf("centre (%g, %g): loss %v, eval %v", x, y, s.Values["loss"][c], centreLoss)
	}
	dirs := filepath.Join(out, "directions.npz")
	for _, i := range []int{0, 4, 6, 13, 14} {
		x, y := s.Grid.Coord(i)
		loss, acc := evalJSON(t, "--samples", "300", "--directions", dirs, "--at", fmt.Sprintf("%g,%g", x, y), digitsModel, digitsData)
		if loss != s.Values["loss"][i] || acc != s.Values["acc"][i] {
			t.Errorf("point %d (%g, %g): surface %v/%v, eval --at %v/%v", i, x, y, s.Values["loss"][i], s.Values["acc"][i], loss, acc)
		}
	}
	// numpy's view: loss is [ny, nx].
	f, err := npz.ReadFile(filepath.Join(out, "surface.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if sh := f["loss"].Shape; len(sh) != 2 || sh[0] != 3 || sh[1] != 5 {
		t.Errorf("loss shape %v, want [3 5]", sh)
	}
}

// TestRunReproducible: the same seed, model and data give identical values.
func TestRunReproducible(t *testing.T) {
	requireRuntime(t)
	var surfaces []*sweep.Surface
	for k := 0; k < 2; k++ {
		out := filepath.Join(t.TempDir(), "out")
		r := run(t, "run", digitsModel, digitsData, "--x", "-1:1:4", "--y", "-1:1:3", "--seed", "7", "--samples", "200", "--out", out, "--quiet")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		surfaces = append(surfaces, readSurface(t, out))
	}
	sameSurface(t, surfaces[0], surfaces[1])
}

// TestRunKilledAndResumed kills a sweep with SIGKILL once some points are on
// disk, resumes it with the same command, and compares with an
// uninterrupted run.
func TestRunKilledAndResumed(t *testing.T) {
	requireRuntime(t)
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"run", digitsModel, digitsData, "--x", "-1:1:41", "--y", "-1:1:41", "--samples", "100", "--out", out, "--quiet"}
	}
	killed := filepath.Join(dir, "killed")
	cmd := exec.Command(lsweep, args(killed)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(killed, "surface.npz")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no surface.npz after 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	partial := readSurface(t, killed)
	done := 0
	for _, m := range partial.Mask {
		if m {
			done++
		}
	}
	t.Logf("killed with %d of %d points saved", done, len(partial.Mask))
	if done == 0 || done == len(partial.Mask) {
		t.Fatalf("kill landed at %d of %d points: nothing to resume", done, len(partial.Mask))
	}
	if r := run(t, args(killed)...); r.code != 0 {
		t.Fatalf("resume: exit %d: %s", r.code, r.stderr)
	}
	whole := filepath.Join(dir, "whole")
	if r := run(t, args(whole)...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameSurface(t, readSurface(t, killed), readSurface(t, whole))
}

// TestShardsAndMerge computes a surface in three shards and merges them.
func TestShardsAndMerge(t *testing.T) {
	requireRuntime(t)
	dir := t.TempDir()
	base := []string{"run", digitsModel, digitsData, "--x", "-1:1:5", "--y", "-1:1:4", "--samples", "100", "--quiet"}
	sharded := filepath.Join(dir, "sharded")
	for i := 0; i < 3; i++ {
		if r := run(t, append(base, "--out", sharded, "--shard", fmt.Sprintf("%d/3", i))...); r.code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	if r := run(t, "merge", sharded); r.code != 0 {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	single := filepath.Join(dir, "single")
	if r := run(t, append(base, "--out", single)...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameSurface(t, readSurface(t, sharded), readSurface(t, single))
}

// TestOpenMPI runs two ranks under the real Open MPI launcher; each takes its
// shard from the environment, and the merged surface equals a single
// process's exactly.
func TestOpenMPI(t *testing.T) {
	requireRuntime(t)
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("mpirun not installed (Debian: openmpi-bin)")
		}
		t.Skip("mpirun not installed (Debian: openmpi-bin)")
	}
	dir := t.TempDir()
	args := []string{"run", digitsModel, digitsData, "--x", "-1:1:6", "--y", "-1:1:3", "--samples", "100", "--quiet"}
	// One process with the default threads and sessions, against ranks of
	// one thread each: the same bits.
	single := filepath.Join(dir, "single")
	if r := run(t, append(args, "--out", single)...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, np := range []int{1, 2, 3} {
		mpi := filepath.Join(dir, fmt.Sprintf("mpi%d", np))
		cmd := exec.Command(mpirun, append([]string{"--allow-run-as-root", "--oversubscribe", "-np", fmt.Sprint(np), lsweep}, append(args, "--threads", "1", "--out", mpi)...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mpirun -np %d: %v\n%s", np, err, out)
		}
		if np > 1 {
			for k := 0; k < np; k++ {
				if _, err := os.Stat(filepath.Join(mpi, fmt.Sprintf("shard-%d-of-%d.npz", k, np))); err != nil {
					t.Fatalf("rank file: %v", err)
				}
			}
			if r := run(t, "merge", mpi); r.code != 0 {
				t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
			}
		}
		sameSurface(t, readSurface(t, mpi), readSurface(t, single))
	}
}

// TestRunBadInput: each bad grid, shard, directions file or output folder
// gets a clear error and exit status 2.
func TestRunBadInput(t *testing.T) {
	requireRuntime(t)
	dir := t.TempDir()
	other := writeTiny(t, dir, tinyGemm())
	otherDirs := filepath.Join(dir, "other")
	if r := run(t, "run", other, tinyData(t, dir), "--x", "-1:1:3", "--out", otherDirs, "--quiet"); r.code != 0 {
		t.Fatalf("setup: exit %d: %s", r.code, r.stderr)
	}
	used := filepath.Join(dir, "used")
	if r := run(t, "run", digitsModel, digitsData, "--x", "-1:1:3", "--samples", "50", "--out", used, "--quiet"); r.code != 0 {
		t.Fatalf("setup: exit %d: %s", r.code, r.stderr)
	}
	fresh := func() string { return filepath.Join(t.TempDir(), "out") }
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"reversed axis", []string{"--x", "1:0:5"}, []string{"--x", "1:0:5"}},
		{"junk axis", []string{"--x", "a:b:c"}, []string{"--x", "a:b:c"}},
		{"no points", []string{"--x", "-1:1:0"}, []string{"--x"}},
		{"too many points", []string{"--y", "-1:1:2000000"}, []string{"--y"}},
		{"shard out of range", []string{"--shard", "3/3"}, []string{"--shard", "3/3"}},
		{"directions of another model", []string{"--directions", filepath.Join(otherDirs, "directions.npz")}, []string{"directions.npz"}},
		{"other architecture", []string{"--model2", other}, []string{other}},
		{"folder of another run", []string{"--seed", "5", "--out", used}, []string{"seed", "--force"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"run", digitsModel, digitsData, "--samples", "50", "--quiet", "--out", fresh()}, c.args...)
			r := run(t, args...)
			if r.code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") {
				t.Fatalf("panicked: %s", r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error %q does not mention %q", strings.TrimSpace(r.stderr), w)
				}
			}
		})
	}
}

func tinyGemm() *fixtures.Tiny { return fixtures.GemmTransB1() }

// tinyData writes 8 samples for the GemmTransB1 fixture.
func tinyData(t *testing.T, dir string) string {
	t.Helper()
	tiny := tinyGemm()
	x := fixtures.RandomInput(tiny, 8, 1)
	shape := make([]int, len(x.Shape))
	for i, s := range x.Shape {
		shape[i] = int(s)
	}
	y := fixtures.Labels(tiny, 8, 2)
	ya := &npz.Array{Shape: []int{8}, DType: "int64"}
	for _, v := range y {
		ya.Data = append(ya.Data, float64(v))
	}
	return writeNPZ(t, filepath.Join(dir, "tiny.npz"), npz.Entry{Name: "x", Array: &npz.Array{Shape: shape, DType: "float32", Data: x.Data}}, npz.Entry{Name: "y", Array: ya})
}

// TestRunInterrupted: SIGTERM (as SIGINT) saves what was computed and exits
// with status 130 and a message saying how to resume.
func TestRunInterrupted(t *testing.T) {
	requireRuntime(t)
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(lsweep, "run", digitsModel, digitsData, "--x", "-1:1:41", "--y", "-1:1:41", "--samples", "100", "--out", out, "--quiet")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the first saved points, then interrupt.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(out, "surface.npz")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no surface.npz after 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 130 {
		t.Fatalf("exit %v, want status 130; stderr %q", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "run the same command again to resume") {
		t.Errorf("stderr %q", stderr.String())
	}
	s := readSurface(t, out)
	if s.Count() == 0 || s.Count() == s.Grid.Len() {
		t.Errorf("%d of %d points saved", s.Count(), s.Grid.Len())
	}
}

// TestRunTamperedManifest: a manifest edited to another seed does not pass
// for that seed's results: the directions it records are those of the old
// seed, and the run is refused with the difference named.
func TestRunTamperedManifest(t *testing.T) {
	requireRuntime(t)
	dir := t.TempDir()
	model := writeTiny(t, dir, tinyGemm())
	data := tinyData(t, dir)
	out := filepath.Join(dir, "out")
	if r := run(t, "run", model, data, "--x", "-1:1:3", "--seed", "1", "--out", out, "--no-plot", "--quiet"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	path := filepath.Join(out, "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), `"seed": 1,`, `"seed": 2,`, 1)
	if edited == string(b) {
		t.Fatalf("no seed in %s", b)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "run", model, data, "--x", "-1:1:3", "--seed", "2", "--out", out, "--no-plot", "--quiet")
	if r.code != 2 || !strings.Contains(r.stderr, "directions_sha256") {
		t.Errorf("run on a tampered folder: exit %d, %q", r.code, r.stderr)
	}
}

// TestRunFailsCleanly: a run that fails at its first point (here a Hessian
// through an op without a derivative rule) leaves no folder behind.
func TestRunFailsCleanly(t *testing.T) {
	requireRuntime(t)
	dir := t.TempDir()
	tiny := tinyGemm()
	for _, n := range tiny.Model.GetGraph().GetNode() {
		if n.GetOpType() == "Relu" {
			n.OpType = proto.String("Atan")
		}
	}
	model := writeTiny(t, dir, tiny)
	out := filepath.Join(dir, "out")
	r := run(t, "hessian", model, tinyData(t, dir), "--x", "-1:1:3", "--out", out, "--no-plot", "--quiet")
	if r.code != 2 || !strings.Contains(r.stderr, "Atan") {
		t.Fatalf("exit %d: %q", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		entries, _ := os.ReadDir(out)
		t.Errorf("the failed run left %s: %v", out, entries)
	}
}

// TestRunTolerance runs an estimated surface, checks what it prints and
// writes, kills one with SIGKILL and resumes it to the surface of an
// uninterrupted run, and refuses bad tolerance flags, naming them.
func TestRunTolerance(t *testing.T) {
	requireRuntime(t)
	dir := t.TempDir()
	args := func(out string, more ...string) []string {
		return append([]string{"run", digitsModel, digitsData, "--x", "-1:1:41", "--y", "-1:1:41", "--samples", "600", "--tolerance", "0.05", "--out", out, "--no-plot"}, more...)
	}
	whole := filepath.Join(dir, "whole")
	r := run(t, args(whole, "--verify", "5")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "over 5 of the") || !strings.Contains(r.stdout, "estimated points") || !strings.Contains(r.stdout, "fewer than every point over every sample") || !strings.Contains(r.stdout, "interpolated from computed neighbours") {
		t.Errorf("stdout lacks the verification or the forwards:\n%s", r.stdout)
	}
	ws := readSurface(t, whole)
	for _, c := range []string{"loss_se", "samples", "estimated"} {
		if _, ok := ws.Values[c]; !ok {
			t.Errorf("surface.npz lacks %q", c)
		}
	}
	killed := filepath.Join(dir, "killed")
	cmd := exec.Command(lsweep, args(killed, "--quiet")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(killed, "surface.npz")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no surface.npz after 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if n := readSurface(t, killed).Count(); n == 0 || n == len(ws.Mask) {
		t.Logf("the kill landed at %d of %d points", n, len(ws.Mask))
	}
	if r := run(t, args(killed, "--quiet")...); r.code != 0 {
		t.Fatalf("resume: exit %d: %s", r.code, r.stderr)
	}
	sameSurface(t, readSurface(t, killed), ws)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tolerance", "-1"}, "--tolerance"},
		{[]string{"--tolerance", "0.02", "--tolerance-abs", "-1"}, "--tolerance-abs"},
		{[]string{"--verify", "3"}, "--verify"},
		{[]string{"--tolerance", "0.02", "--verify", "-2"}, "--verify"},
		{[]string{"--tolerance", "0.02", "--tolerance-delta", "2"}, "--tolerance-delta"},
	} {
		r := run(t, append([]string{"run", digitsModel, digitsData, "--samples", "50", "--quiet", "--out", filepath.Join(t.TempDir(), "o")}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "panic") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", c.args, r.code, r.stderr, c.want)
		}
	}
}

// TestRunToleranceShards runs an estimated surface as two shards at once
// and merges them: the surface of one process, with no point computed by
// both shards.
func TestRunToleranceShards(t *testing.T) {
	requireRuntime(t)
	dir := t.TempDir()
	base := []string{"run", digitsModel, digitsData, "--x", "-1:1:21", "--y", "-1:1:21", "--samples", "300", "--tolerance", "0.05", "--quiet", "--no-plot"}
	sharded := filepath.Join(dir, "sharded")
	var cmds []*exec.Cmd
	var errs []*strings.Builder
	for i := 0; i < 2; i++ {
		cmd := exec.Command(lsweep, append(base, "--out", sharded, "--shard", fmt.Sprintf("%d/2", i))...)
		errb := &strings.Builder{}
		cmd.Stderr = errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, errs = append(cmds, cmd), append(errs, errb)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("shard %d: %v: %s", i, err, errs[i])
		}
	}
	if r := run(t, "merge", sharded, "--no-plot"); r.code != 0 {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	single := filepath.Join(dir, "single")
	if r := run(t, append(base, "--out", single)...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameSurface(t, readSurface(t, sharded), readSurface(t, single))
	s0, s1 := readSurfaceFile(t, filepath.Join(sharded, "shard-0-of-2.npz")), readSurfaceFile(t, filepath.Join(sharded, "shard-1-of-2.npz"))
	for i := range s0.Mask {
		if s0.Mask[i] && s1.Mask[i] && s0.Values["estimated"][i] == 0 && s1.Values["estimated"][i] == 0 {
			t.Fatalf("point %d computed by both shards", i)
		}
	}
}

func readSurfaceFile(t *testing.T, path string) *sweep.Surface {
	t.Helper()
	s, err := sweep.ReadSurface(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
