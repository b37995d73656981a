package sweep_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsweep/lsweep/sweep"
)

// helperEnv names the folder that TestHelperSweep sweeps into; the test
// does nothing without it.
const helperEnv = "LSWEEP_SWEEP_TEST_HELPER_DIR"

func killGrid(t testing.TB) sweep.Grid { return grid2(t, "-1:1:15", "-0.5:0.5:11") }

// TestHelperSweep is the process that TestKill kills: a slow sweep that
// writes its file often.
func TestHelperSweep(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("the process TestKill runs and kills")
	}
	gr := killGrid(t)
	s := open(t, dir, manifest(gr, 1), sweep.Shard{})
	s.FlushInterval = 5 * time.Millisecond
	q := &quad{delay: 10 * time.Millisecond}
	if err := sweep.Run(context.Background(), s, gr, sweep.CoarseToFine(gr), q, nil); err != nil {
		t.Fatal(err)
	}
}

// TestKill kills a sweep with SIGKILL once some points are on disk, resumes
// it and checks that the result is that of an uninterrupted sweep.
func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a sweep in another process")
	}
	gr := killGrid(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSweep$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	path := filepath.Join(dir, "surface.npz")
	const atLeast = 10
	deadline := time.Now().Add(30 * time.Second)
	for {
		if s, err := sweep.ReadSurface(path); err == nil && s.Count() >= atLeast {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the sweep ended before it was killed: %v\n%s", err, out.String())
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no %d points on disk after 30 s\n%s", atLeast, out.String())
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	<-exited

	s := open(t, dir, manifest(gr, 1), sweep.Shard{})
	n := s.Count()
	t.Logf("killed with %d of %d points on disk", n, gr.Len())
	if n < atLeast || n >= gr.Len() {
		t.Fatalf("%d points on disk after the kill, want from %d to %d", n, atLeast, gr.Len()-1)
	}
	q := &quad{}
	if err := sweep.Run(context.Background(), s, gr, sweep.CoarseToFine(gr), q, nil); err != nil {
		t.Fatal(err)
	}
	if q.calls.Load() != int64(gr.Len()-n) {
		t.Errorf("resume computed %d points, want %d", q.calls.Load(), gr.Len()-n)
	}
	want := run(t, t.TempDir(), manifest(gr, 1), sweep.Shard{}, &quad{})
	sameSurface(t, readSurface(t, s.Path()), readSurface(t, want.Path()))
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("folder holds %q, want manifest.json and surface.npz", names)
	}
}
