package sweep

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/lsweep/lsweep/internal/atomicfile"
	"github.com/lsweep/lsweep/npz"
)

// SurfaceName is the name of the file in an output folder that holds the
// values of a whole grid: those of a single-process run, or those Merge
// combines from shards.
const SurfaceName = "surface.npz"

// DefaultFlushInterval is the FlushInterval that Open sets.
const DefaultFlushInterval = 2 * time.Second

// ShardName returns the name of the file that holds the values of shard s
// of a sharded run, "shard-I-of-N.npz", or SurfaceName for the whole grid.
func ShardName(s Shard) string {
	s = s.norm()
	if s.Count == 1 {
		return SurfaceName
	}
	return fmt.Sprintf("shard-%d-of-%d.npz", s.Index, s.Count)
}

// shardFile matches the names ShardName gives shards.
var shardFile = regexp.MustCompile(`^shard-(0|[1-9][0-9]*)-of-([1-9][0-9]*)\.npz$`)

// parseShardName returns the shard whose file is named name.
func parseShardName(name string) (Shard, bool) {
	m := shardFile.FindStringSubmatch(name)
	if m == nil {
		return Shard{}, false
	}
	i, err1 := strconv.Atoi(m[1])
	n, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return Shard{}, false
	}
	return Shard{i, n}, true
}

// Store keeps the results of one run, or of one shard of it, in an output
// folder.
//
// The folder holds manifest.json, written once, and the values: the whole
// grid's in surface.npz, or, for shard I of N (N > 1), its points' in
// shard-I-of-N.npz. Either file holds the entries "xcoordinates" (shape
// [X.N]), "ycoordinates" ([Y.N], 2-D grids only), one float64 entry per
// channel shaped Grid.Shape() (rows are y, columns are x), NaN where not
// computed, and "mask", a bool entry of the same shape that is true where
// the point was computed. numpy.load(path)["loss"][iy, ix] is the loss at
// point (x[ix], y[iy]).
//
// Record keeps values in memory and rewrites the file atomically (a
// temporary file in the same folder, fsync, rename, fsync of the folder)
// once FlushInterval has passed since the last time, so a process killed
// at any moment loses at most that much work and never leaves a damaged
// file. A Store may be used from several goroutines at once.
type Store struct {
	// FlushInterval is the longest time Record keeps values only in memory.
	// Open sets it to DefaultFlushInterval; if it is zero or negative,
	// every Record writes the file.
	FlushInterval time.Duration

	mu        sync.Mutex
	dir, path string
	grid      Grid
	channels  []string
	values    [][]float64 // by channel, then point
	mask      []float64   // 1 where computed, for writing as bool
	count     int
	dirty     bool
	lastFlush time.Time
	release   func() // the shard's lock
}

// Close releases the lock Open took on this shard of the folder; it does not
// flush. Another process can then open it.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release != nil {
		s.release()
		s.release = nil
	}
}

// Open opens the output folder dir, creating it if needed, for a run
// described by m, to record the points of shard (the zero Shard or {0, 1}
// for a single process), and loads the values recorded before.
//
// If dir holds no manifest.json, Open writes m there. If it holds one, Open
// compares its Identity, Grid and Channels with m's and, if they differ,
// returns a *MismatchError that names the differences, unless force is
// true: then it removes the old manifest and every result file
// (surface.npz, shard-*-of-*.npz) and starts afresh. With force and an
// equal manifest it removes only this shard's file, to compute its points
// again. Open also refuses, unless force is true, a sharded run into a
// folder that holds shard files of another count, which Merge could not
// combine.
//
// Open takes a lock on this shard of the folder (a file next to the
// shard's result file holding the process's pid and host) and returns a
// *LockError, matching ErrLocked, when another live process holds it; a lock
// left by a process that is gone is taken over. Close releases it.
//
// Files other than the manifest and the result files are left alone.
func Open(dir string, m Manifest, shard Shard, force bool) (*Store, error) {
	shard = shard.norm()
	if err := shard.check(); err != nil {
		return nil, err
	}
	m.Grid = m.Grid.norm()
	if err := m.check(); err != nil {
		return nil, err
	}
	b, err := m.encode()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	s := &Store{
		FlushInterval: DefaultFlushInterval,
		dir:           dir,
		path:          filepath.Join(dir, ShardName(shard)),
		grid:          m.Grid,
		channels:      append([]string(nil), m.Channels...),
		lastFlush:     time.Now(),
	}
	release, err := acquire(s.path)
	if err != nil {
		return nil, err
	}
	s.release = release
	if err := s.claim(&m, b, shard, force); err != nil {
		s.Close()
		return nil, err
	}
	// Remove the temporary files of this shard's writes that a killed
	// process left.
	atomicfile.RemoveTemps(s.path)
	n := m.Grid.Len()
	s.values = make([][]float64, len(m.Channels))
	for c, name := range m.Channels {
		s.values[c] = make([]float64, n)
		if name == EstimatedChannel {
			continue // a bool entry: false where not computed
		}
		for i := range s.values[c] {
			s.values[c][i] = math.NaN()
		}
	}
	s.mask = make([]float64, n)
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// claim makes dir hold m's manifest, as Open describes.
func (s *Store) claim(m *Manifest, b []byte, shard Shard, force bool) error {
	for try := 0; ; try++ {
		old, err := ReadManifest(s.dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if files, _ := resultFiles(s.dir); len(files) > 0 && !force {
				return fmt.Errorf("sweep: %s holds %s but no %s, so its run is unknown (use --force to start over)", s.dir, files[0], ManifestName)
			}
			if err := removeResults(s.dir); err != nil {
				return err
			}
			err = writeManifest(s.dir, b)
			if errors.Is(err, fs.ErrExist) && try < 3 {
				continue // another shard wrote it first: compare with it
			}
			return err
		case err != nil:
			if !force {
				return fmt.Errorf("%w (use --force to start over)", err)
			}
		default:
			diffs, err := compare(old, m)
			if err != nil {
				return err
			}
			if len(diffs) == 0 {
				if force {
					if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
						return fmt.Errorf("sweep: %w", err)
					}
				}
				return s.checkShards(shard, force)
			}
			if !force {
				return &MismatchError{Dir: s.dir, Differences: diffs}
			}
		}
		// force: start over.
		if err := os.Remove(filepath.Join(s.dir, ManifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sweep: %w", err)
		}
		if err := removeResults(s.dir); err != nil {
			return err
		}
		force = false
	}
}

// checkShards refuses shard files of another count than shard's, or with
// force removes them.
func (s *Store) checkShards(shard Shard, force bool) error {
	if shard.Count == 1 {
		return nil
	}
	files, err := resultFiles(s.dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		sh, ok := parseShardName(f)
		if !ok || sh.Count == shard.Count {
			continue
		}
		if !force {
			return fmt.Errorf("sweep: %s holds %s, a shard of a run in %d shards, and this is shard %v (use --force to start over, or the same count)", s.dir, f, sh.Count, shard)
		}
		if err := os.Remove(filepath.Join(s.dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sweep: %w", err)
		}
	}
	return nil
}

// resultFiles returns the names of the result files in dir: surface.npz
// and shard-*-of-*.npz.
func resultFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	var names []string
	for _, e := range ents {
		if _, ok := parseShardName(e.Name()); ok || e.Name() == SurfaceName {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// removeResults removes the result files in dir.
// RemoveRun removes the manifest and every result file of the run in dir,
// leaving other files alone.
func RemoveRun(dir string) error {
	if err := removeResults(dir); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, ManifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

func removeResults(dir string) error {
	files, err := resultFiles(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sweep: %w", err)
		}
	}
	return nil
}

// load reads the store's file, if there is one.
func (s *Store) load() error {
	sf, err := ReadSurface(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w (use --force to start over)", err)
	}
	if err := sf.agrees(s.path, s.grid, s.channels); err != nil {
		return fmt.Errorf("%w (use --force to start over)", err)
	}
	for i, ok := range sf.Mask {
		if !ok {
			continue
		}
		for c, name := range s.channels {
			s.values[c][i] = sf.Values[name][i]
		}
		s.mask[i] = 1
		s.count++
	}
	return nil
}

// Path returns the path of the file that holds the store's values.
func (s *Store) Path() string { return s.path }

// Done reports whether point i has been recorded; it is false for an i
// outside the grid.
func (s *Store) Done(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return i >= 0 && i < len(s.mask) && s.mask[i] != 0
}

// Count returns the number of points recorded.
func (s *Store) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Record stores the values of point i, one per channel, replacing any
// recorded before, and writes the file if FlushInterval has passed since
// it was last written. A value may be NaN or infinite (a diverged loss);
// the mask, not the value, says the point was computed.
func (s *Store) Record(i int, values []float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < 0 || i >= len(s.mask) {
		return fmt.Errorf("sweep: point %d is not in the grid of %d points", i, len(s.mask))
	}
	if len(values) != len(s.channels) {
		return fmt.Errorf("sweep: point %d has %d values, want %d (%v)", i, len(values), len(s.channels), s.channels)
	}
	s.put(i, values)
	if time.Since(s.lastFlush) >= s.FlushInterval {
		return s.flush()
	}
	return nil
}

// put stores the values of point i, checked by the caller, without
// writing the file; s.mu is held.
func (s *Store) put(i int, values []float64) {
	for c, v := range values {
		s.values[c][i] = v
	}
	if s.mask[i] == 0 {
		s.mask[i] = 1
		s.count++
	}
	s.dirty = true
}

// Flush writes the file now if anything was recorded since it was last
// written.
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flush()
}

func (s *Store) flush() error {
	if !s.dirty {
		return nil
	}
	if err := npz.WriteFile(s.path, surfaceEntries(s.grid, s.channels, s.values, s.mask)); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	s.dirty = false
	s.lastFlush = time.Now()
	return nil
}

// surfaceEntries returns the entries of a surface file; they share the
// slices values and mask, which holds 0 and 1. EstimatedChannel is written
// as bool, false where it is not 1.
func surfaceEntries(g Grid, channels []string, values [][]float64, mask []float64) []npz.Entry {
	e := []npz.Entry{{Name: "xcoordinates", Array: &npz.Array{Shape: []int{g.X.N}, DType: "float64", Data: g.X.Coords()}}}
	if g.Is2D() {
		e = append(e, npz.Entry{Name: "ycoordinates", Array: &npz.Array{Shape: []int{g.Y.N}, DType: "float64", Data: g.Y.Coords()}})
	}
	for c, name := range channels {
		if name == EstimatedChannel {
			b := make([]float64, len(values[c]))
			for i, v := range values[c] {
				if v == 1 {
					b[i] = 1
				}
			}
			e = append(e, npz.Entry{Name: name, Array: &npz.Array{Shape: g.Shape(), DType: "bool", Data: b}})
			continue
		}
		e = append(e, npz.Entry{Name: name, Array: &npz.Array{Shape: g.Shape(), DType: "float64", Data: values[c]}})
	}
	return append(e, npz.Entry{Name: "mask", Array: &npz.Array{Shape: g.Shape(), DType: "bool", Data: mask}})
}
