package sweep_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/sweep"
)

func TestParseShard(t *testing.T) {
	good := []struct {
		in   string
		want sweep.Shard
	}{
		{"0/1", sweep.Shard{Index: 0, Count: 1}},
		{"0/4", sweep.Shard{Index: 0, Count: 4}},
		{"3/4", sweep.Shard{Index: 3, Count: 4}},
		{" 2 / 10 ", sweep.Shard{Index: 2, Count: 10}},
	}
	for _, c := range good {
		t.Run(c.in, func(t *testing.T) {
			s, err := sweep.ParseShard(c.in)
			if err != nil || s != c.want {
				t.Fatalf("got %+v, %v; want %+v", s, err, c.want)
			}
			if b, err := sweep.ParseShard(s.String()); err != nil || b != s {
				t.Fatalf("String %q parses to %+v, %v", s.String(), b, err)
			}
		})
	}
	bad := []struct{ in, msg string }{
		{"", "want I/N"},
		{"3", "want I/N"},
		{"1-4", "want I/N"},
		{"4/4", "index 4 is not less than the count 4"},
		{"5/4", "index 5 is not less than the count 4"},
		{"-1/4", "index -1 is negative"},
		{"0/0", "count 0 is not at least 1"},
		{"0/-2", "count -2 is not at least 1"},
		{"a/4", `index "a" is not a whole number`},
		{"1/b", `count "b" is not a whole number`},
		{"1/4/5", `count "4/5" is not a whole number`},
		{"/4", `index "" is not a whole number`},
		{"1.5/4", `index "1.5" is not a whole number`},
	}
	for _, c := range bad {
		t.Run(c.in, func(t *testing.T) {
			_, err := sweep.ParseShard(c.in)
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "sweep: ") || !strings.Contains(msg, `"`+c.in+`"`) || !strings.Contains(msg, c.msg) {
				t.Fatalf("error %q, want %q and %q", msg, c.in, c.msg)
			}
		})
	}
}

func TestTake(t *testing.T) {
	for _, gr := range []sweep.Grid{grid2(t, "0:1:51", "0:1:51"), grid2(t, "0:1:3", "0:1:1"), grid1(t, "0:1:7"), grid1(t, "0:1:1")} {
		order := sweep.CoarseToFine(gr)
		for count := 1; count <= 7; count++ {
			t.Run(fmt.Sprintf("%v/%d", gr.Shape(), count), func(t *testing.T) {
				var all []int
				lo, hi := len(order), 0
				for i := range count {
					part := sweep.Shard{Index: i, Count: count}.Take(order)
					lo, hi = min(lo, len(part)), max(hi, len(part))
					all = append(all, part...)
					// Each share keeps the order.
					pos := -1
					for _, p := range part {
						k := slices.Index(order, p)
						if k <= pos {
							t.Fatalf("shard %d/%d: %v not in the order's order", i, count, part)
						}
						pos = k
					}
				}
				if hi-lo > 1 {
					t.Errorf("share sizes from %d to %d", lo, hi)
				}
				// Together the shares are the order, each point once.
				checkPermutation(t, gr, all)
			})
		}
	}
	order := sweep.CoarseToFine(grid1(t, "0:1:5"))
	if got := (sweep.Shard{}).Take(order); !slices.Equal(got, order) {
		t.Errorf("zero Shard takes %v, want %v", got, order)
	}
}

// TestShardSpread checks that each shard's share is coarse to fine too,
// whatever the count: every prefix of every share is spread, if less
// densely than the whole order's prefixes of the same length.
func TestShardSpread(t *testing.T) {
	for _, gr := range []sweep.Grid{grid2(t, "0:1:41", "0:1:33"), grid2(t, "0:1:51", "0:1:51"), grid2(t, "0:1:64", "0:1:9"), grid1(t, "0:1:301")} {
		order := sweep.CoarseToFine(gr)
		for count := 2; count <= 9; count++ {
			t.Run(fmt.Sprintf("%v/%d", gr.Shape(), count), func(t *testing.T) {
				worstF, worstM := 0.0, 0.0
				for i := range count {
					part := sweep.Shard{Index: i, Count: count}.Take(order)
					fill, mean := spread(gr, part)
					k0 := min(len(part), 4)
					worstF, worstM = max(worstF, slices.Max(fill[k0:])), max(worstM, slices.Max(mean[k0:]))
				}
				t.Logf("fill*sqrt(k) <= %.3f, mean*sqrt(k) <= %.3f", worstF, worstM)
				maxF, maxM := maxShardFill, maxShardMean
				if !gr.Is2D() {
					maxF, maxM = maxShardFill1D, maxShardMean1D
				}
				if worstF > maxF || worstM > maxM {
					t.Errorf("prefixes not spread: fill*sqrt(k) up to %.3f, mean*sqrt(k) up to %.3f", worstF, worstM)
				}
			})
		}
	}
}

// maxShardFill and maxShardMean bound the spread of every shard's
// prefixes: a shard's prefix of k points is a thinned-out part of the
// order's prefix of about Count*k points, and less even. In 1-D some
// counts leave a gap several times the mean spacing for a while.
const (
	maxShardFill, maxShardMean     = 4.0, 1.0
	maxShardFill1D, maxShardMean1D = 12, 2
)

func TestShardFromEnv(t *testing.T) {
	cases := []struct {
		name        string
		env         map[string]string
		completions int
		want        sweep.Shard
		ok          bool
		err         string // part of the error; "" for none
		source      string // part of the source
	}{
		{name: "none", env: nil},
		{name: "unrelated", env: map[string]string{"HOME": "/root", "SLURM_JOB_ID": "12"}},
		{name: "openmpi", env: map[string]string{"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "4"},
			want: sweep.Shard{2, 4}, ok: true, source: "OMPI_COMM_WORLD_RANK=2, OMPI_COMM_WORLD_SIZE=4"},
		{name: "openmpi under slurm", env: map[string]string{"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "3", "SLURM_PROCID": "0", "SLURM_NTASKS": "1"},
			want: sweep.Shard{1, 3}, ok: true, source: "OMPI_COMM_WORLD_RANK=1"},
		{name: "openmpi single", env: map[string]string{"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "1"},
			want: sweep.Shard{0, 1}, ok: false},
		{name: "openmpi no size", env: map[string]string{"OMPI_COMM_WORLD_RANK": "0"},
			err: "OMPI_COMM_WORLD_RANK is set but OMPI_COMM_WORLD_SIZE is not"},
		{name: "openmpi rank too big", env: map[string]string{"OMPI_COMM_WORLD_RANK": "4", "OMPI_COMM_WORLD_SIZE": "4"},
			err: "index 4 is not less than the count 4"},
		{name: "openmpi junk", env: map[string]string{"OMPI_COMM_WORLD_RANK": "x", "OMPI_COMM_WORLD_SIZE": "4"},
			err: `rank "x" is not a whole number`},
		{name: "pmi", env: map[string]string{"PMI_RANK": "5", "PMI_SIZE": "8"},
			want: sweep.Shard{5, 8}, ok: true, source: "PMI_RANK=5, PMI_SIZE=8"},
		{name: "pmi no rank", env: map[string]string{"PMI_SIZE": "8"},
			err: "PMI_SIZE is set but PMI_RANK is not"},
		{name: "pmi bad size", env: map[string]string{"PMI_RANK": "0", "PMI_SIZE": "0"},
			err: "count 0 is not at least 1"},
		{name: "slurm", env: map[string]string{"SLURM_PROCID": "3", "SLURM_NTASKS": "16"},
			want: sweep.Shard{3, 16}, ok: true, source: "SLURM_PROCID=3, SLURM_NTASKS=16"},
		{name: "slurm one task", env: map[string]string{"SLURM_PROCID": "0", "SLURM_NTASKS": "1"},
			want: sweep.Shard{0, 1}, ok: false},
		{name: "slurm negative", env: map[string]string{"SLURM_PROCID": "-1", "SLURM_NTASKS": "2"},
			err: "index -1 is negative"},
		{name: "slurm array", env: map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "5"},
			want: sweep.Shard{2, 5}, ok: true, source: "SLURM_ARRAY_TASK_ID=2, SLURM_ARRAY_TASK_COUNT=5"},
		{name: "slurm array min", env: map[string]string{"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "5", "SLURM_ARRAY_TASK_MIN": "5"},
			want: sweep.Shard{2, 5}, ok: true, source: "SLURM_ARRAY_TASK_MIN=5"},
		{name: "slurm array one task per element", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_PROCID": "0", "SLURM_NTASKS": "1"},
			want: sweep.Shard{1, 4}, ok: true},
		{name: "slurm array of steps", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_PROCID": "1", "SLURM_NTASKS": "2"},
			want: sweep.Shard{3, 6}, ok: true, source: "SLURM_PROCID=1, SLURM_NTASKS=2"},
		{name: "slurm array of one", env: map[string]string{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "1"},
			want: sweep.Shard{0, 1}, ok: false},
		{name: "slurm array not contiguous", env: map[string]string{"SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"},
			err: "contiguous"},
		{name: "slurm array no count", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1"},
			err: "SLURM_ARRAY_TASK_COUNT is not"},
		{name: "slurm array bad min", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "one"},
			err: "SLURM_ARRAY_TASK_MIN"},
		{name: "kubernetes", env: map[string]string{"JOB_COMPLETION_INDEX": "4"}, completions: 10,
			want: sweep.Shard{4, 10}, ok: true, source: "JOB_COMPLETION_INDEX=4"},
		{name: "kubernetes one", env: map[string]string{"JOB_COMPLETION_INDEX": "0"}, completions: 1,
			want: sweep.Shard{0, 1}, ok: false},
		{name: "kubernetes no count", env: map[string]string{"JOB_COMPLETION_INDEX": "4"},
			err: "set the count"},
		{name: "kubernetes index too big", env: map[string]string{"JOB_COMPLETION_INDEX": "10"}, completions: 10,
			err: "index 10 is not less than the count 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, source, ok, err := sweep.ShardFromEnv(func(k string) string { return c.env[k] }, c.completions)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "sweep: ") {
					t.Fatalf("error %v, want one with %q", err, c.err)
				}
				if ok {
					t.Fatal("ok with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok != c.ok || (ok && s != c.want) {
				t.Fatalf("got %+v ok %v, want %+v ok %v", s, ok, c.want, c.ok)
			}
			if !strings.Contains(source, c.source) {
				t.Errorf("source %q, want it to contain %q", source, c.source)
			}
		})
	}
}
