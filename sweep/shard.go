package sweep

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Shard is one share of a grid's points, for running a sweep as Count
// independent processes: shard Index takes every Count-th point of the
// coarse-to-fine order, starting at the Index-th. Index is in [0, Count).
//
// The zero Shard means the whole grid, as Shard{0, 1} does.
type Shard struct {
	Index, Count int
}

// ParseShard parses "I/N", a 0-based shard index I and a count N >= 1,
// such as "0/4" ... "3/4"; this is restic's --read-data-subset=n/t, but
// 0-based as MPI ranks and Slurm task IDs are.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("sweep: shard %q: want I/N, the 0-based index I of N shards, such as 0/4", s)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case err1 != nil:
		return Shard{}, fmt.Errorf("sweep: shard %q: index %q is not a whole number", s, is)
	case err2 != nil:
		return Shard{}, fmt.Errorf("sweep: shard %q: count %q is not a whole number", s, ns)
	}
	sh := Shard{Index: i, Count: n}
	if err := sh.check(); err != nil {
		return Shard{}, fmt.Errorf("sweep: shard %q: %s", s, strings.TrimPrefix(err.Error(), "sweep: "))
	}
	return sh, nil
}

// check returns an error unless 0 <= Index < Count.
func (s Shard) check() error {
	switch {
	case s.Count < 1:
		return fmt.Errorf("sweep: shard count %d is not at least 1", s.Count)
	case s.Index < 0:
		return fmt.Errorf("sweep: shard index %d is negative", s.Index)
	case s.Index >= s.Count:
		return fmt.Errorf("sweep: shard index %d is not less than the count %d (indices are 0-based)", s.Index, s.Count)
	}
	return nil
}

// norm returns s with the zero Shard made {0, 1}.
func (s Shard) norm() Shard {
	if s == (Shard{}) {
		return Shard{0, 1}
	}
	return s
}

// String returns "I/N".
func (s Shard) String() string {
	s = s.norm()
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// Take returns order[k] for every k with k % Count == Index, in order. The
// shards' shares are disjoint, together make up order, and differ in size
// by at most one; if order is coarse to fine (CoarseToFine), so is each
// share, and each covers the whole grid. The zero Shard takes all of
// order.
func (s Shard) Take(order []int) []int {
	s = s.norm()
	if s.Count == 1 {
		return slices.Clone(order)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return nil
	}
	out := make([]int, 0, (len(order)-s.Index+s.Count-1)/s.Count)
	for k := s.Index; k < len(order); k += s.Count {
		out = append(out, order[k])
	}
	return out
}

// ShardFromEnv returns the shard of this process that a parallel launcher
// states in the environment, read with getenv (os.Getenv in production).
// It knows, in this order:
//
//   - Open MPI (mpirun): OMPI_COMM_WORLD_RANK of OMPI_COMM_WORLD_SIZE;
//   - MPICH, Intel MPI and other PMI launchers: PMI_RANK of PMI_SIZE;
//   - Slurm: SLURM_PROCID of SLURM_NTASKS (srun), and for job arrays
//     SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (if set) of
//     SLURM_ARRAY_TASK_COUNT; an array of multi-task steps gives the
//     shard ArrayIndex*NTASKS + PROCID of ArrayCount*NTASKS;
//   - Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX of completions, which
//     the environment lacks and the caller must give (0 if unknown, which
//     is an error).
//
// ok is false if none of these is set, or if the launcher runs a single
// process. source names the variables used and their values, for
// messages, such as "OMPI_COMM_WORLD_RANK=2, OMPI_COMM_WORLD_SIZE=4". An
// error means a launcher was found but its variables are malformed or
// disagree.
func ShardFromEnv(getenv func(string) string, completions int) (s Shard, source string, ok bool, err error) {
	pair := func(rankVar, sizeVar string) (Shard, string, bool, error) {
		r, n := getenv(rankVar), getenv(sizeVar)
		src := rankVar + "=" + r + ", " + sizeVar + "=" + n
		if r == "" || n == "" {
			if r == "" {
				rankVar, sizeVar = sizeVar, rankVar
			}
			return Shard{}, src, false, fmt.Errorf("sweep: %s is set but %s is not", rankVar, sizeVar)
		}
		return envShard(src, r, n, 0)
	}
	set := func(names ...string) bool {
		for _, v := range names {
			if getenv(v) != "" {
				return true
			}
		}
		return false
	}
	switch {
	case set("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"):
		return pair("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")
	case set("PMI_RANK", "PMI_SIZE"):
		return pair("PMI_RANK", "PMI_SIZE")
	case set("SLURM_ARRAY_TASK_ID"):
		return slurmArray(getenv)
	case set("SLURM_PROCID"):
		return pair("SLURM_PROCID", "SLURM_NTASKS")
	case set("JOB_COMPLETION_INDEX"):
		idx := getenv("JOB_COMPLETION_INDEX")
		src := "JOB_COMPLETION_INDEX=" + idx
		if completions <= 0 {
			return Shard{}, src, false, fmt.Errorf("sweep: JOB_COMPLETION_INDEX=%s says this is a Kubernetes Indexed Job, but the number of shards is unknown: set the count to the Job's completions", idx)
		}
		src += fmt.Sprintf(" of %d completions", completions)
		return envShard(src, idx, strconv.Itoa(completions), 0)
	}
	return Shard{}, "", false, nil
}

// slurmArray returns the shard of a Slurm job array task, combined with
// the task's rank within its step if srun runs several.
func slurmArray(getenv func(string) string) (Shard, string, bool, error) {
	id, cnt, lo := getenv("SLURM_ARRAY_TASK_ID"), getenv("SLURM_ARRAY_TASK_COUNT"), getenv("SLURM_ARRAY_TASK_MIN")
	src := "SLURM_ARRAY_TASK_ID=" + id + ", SLURM_ARRAY_TASK_COUNT=" + cnt
	if cnt == "" {
		return Shard{}, src, false, fmt.Errorf("sweep: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
	}
	min := 0
	if lo != "" {
		src += ", SLURM_ARRAY_TASK_MIN=" + lo
		v, err := strconv.Atoi(lo)
		if err != nil {
			return Shard{}, src, false, fmt.Errorf("sweep: SLURM_ARRAY_TASK_MIN=%q is not a whole number", lo)
		}
		min = v
	}
	a, _, ok, err := envShard(src, id, cnt, min)
	if err != nil {
		return Shard{}, src, false, fmt.Errorf("%w (a job array must be contiguous, such as --array=0-%s)", err, cnt)
	}
	if getenv("SLURM_PROCID") == "" || getenv("SLURM_NTASKS") == "" {
		return a, src, ok, nil
	}
	src += ", SLURM_PROCID=" + getenv("SLURM_PROCID") + ", SLURM_NTASKS=" + getenv("SLURM_NTASKS")
	t, _, tok, err := envShard(src, getenv("SLURM_PROCID"), getenv("SLURM_NTASKS"), 0)
	if err != nil || !tok {
		return a, src, ok, err
	}
	if !ok {
		a = Shard{0, 1}
	}
	return Shard{Index: a.Index*t.Count + t.Index, Count: a.Count * t.Count}, src, true, nil
}

// envShard parses rank and size, subtracting base from the rank. ok is
// false if size is 1.
func envShard(src, rank, size string, base int) (Shard, string, bool, error) {
	r, err := strconv.Atoi(strings.TrimSpace(rank))
	if err != nil {
		return Shard{}, src, false, fmt.Errorf("sweep: %s: rank %q is not a whole number", src, rank)
	}
	n, err := strconv.Atoi(strings.TrimSpace(size))
	if err != nil {
		return Shard{}, src, false, fmt.Errorf("sweep: %s: size %q is not a whole number", src, size)
	}
	s := Shard{Index: r - base, Count: n}
	if err := s.check(); err != nil {
		return Shard{}, src, false, fmt.Errorf("sweep: %s: %s", src, strings.TrimPrefix(err.Error(), "sweep: "))
	}
	return s, src, n > 1, nil
}
