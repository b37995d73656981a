package sweep

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/lsweep/lsweep/npz"
)

// Surface is the values of a whole grid: read from a surface file, or
// merged from the files of a run's shards.
//
// Values holds, for each channel, Grid.Len() values in the grid's point
// order (i = iy*X.N + ix: rows are y, columns are x); Mask[i] is true where
// point i was computed. Values of points not computed are NaN.
type Surface struct {
	Grid     Grid
	Channels []string
	Values   map[string][]float64
	Mask     []bool
}

// ReadSurface reads a surface file, surface.npz or shard-I-of-N.npz, as a
// Store writes it. The grid is taken from the coordinates, which must be
// evenly spaced exactly as Axis.Coords makes them; the channels are the
// entries other than the coordinates and the mask, in file order. Errors
// name the file and, where one is at fault, the entry; the error matches
// fs.ErrNotExist if there is no file.
func ReadSurface(path string) (*Surface, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	defer f.Close()
	bad := func(format string, args ...any) (*Surface, error) {
		return nil, fmt.Errorf("sweep: %s: not a surface file: "+format, append([]any{path}, args...)...)
	}
	for _, k := range []string{"xcoordinates", "mask"} {
		if !f.Has(k) {
			return bad("no entry %q", k)
		}
	}
	read := func(key string) (*npz.Array, error) {
		a, err := f.Read(key)
		if err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		return a, nil
	}
	axis := func(key string) (Axis, error) {
		a, err := read(key)
		if err != nil {
			return Axis{}, err
		}
		if len(a.Shape) != 1 || len(a.Data) < 1 || len(a.Data) > MaxAxisPoints {
			_, err := bad("entry %q has shape %v, want [N] with N from 1 to %d", key, a.Shape, MaxAxisPoints)
			return Axis{}, err
		}
		ax := Axis{Min: a.Data[0], Max: a.Data[len(a.Data)-1], N: len(a.Data)}
		if ax.check(key) != nil || !slices.Equal(a.Data, ax.Coords()) {
			_, err := bad("entry %q does not hold evenly spaced coordinates from %g to %g", key, ax.Min, ax.Max)
			return Axis{}, err
		}
		return ax, nil
	}
	s := &Surface{Values: make(map[string][]float64)}
	if s.Grid.X, err = axis("xcoordinates"); err != nil {
		return nil, err
	}
	if f.Has("ycoordinates") {
		if s.Grid.Y, err = axis("ycoordinates"); err != nil {
			return nil, err
		}
	}
	if err := s.Grid.check(); err != nil {
		return bad("%v", err)
	}
	shape := s.Grid.Shape()
	seen := make(map[string]bool)
	for _, k := range f.Keys() {
		if k == "xcoordinates" || k == "ycoordinates" || seen[k] {
			continue
		}
		seen[k] = true
		a, err := read(k)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(a.Shape, shape) {
			return bad("entry %q has shape %v, the coordinates make %v", k, a.Shape, shape)
		}
		if k == "mask" {
			if a.DType != "bool" {
				return bad("entry \"mask\" has dtype %s, want bool", a.DType)
			}
			s.Mask = make([]bool, len(a.Data))
			for i, v := range a.Data {
				s.Mask[i] = v != 0
			}
			continue
		}
		s.Channels = append(s.Channels, k)
		s.Values[k] = a.Data
	}
	if len(s.Channels) == 0 {
		return bad("no channels besides the coordinates and the mask")
	}
	for _, v := range s.Values {
		for i, ok := range s.Mask {
			if !ok {
				v[i] = math.NaN()
			}
		}
	}
	return s, nil
}

// agrees returns an error unless s has the grid g and the channels
// channels, in that order; path names s's file.
func (s *Surface) agrees(path string, g Grid, channels []string) error {
	if !s.Grid.same(g) {
		return fmt.Errorf("sweep: %s holds the grid %v, the run's is %v", path, s.Grid, g)
	}
	if !slices.Equal(s.Channels, channels) {
		return fmt.Errorf("sweep: %s holds the channels %q, the run's are %q", path, s.Channels, channels)
	}
	return nil
}

// Count returns the number of points computed.
func (s *Surface) Count() int {
	n := 0
	for _, ok := range s.Mask {
		if ok {
			n++
		}
	}
	return n
}

// Missing returns the points not computed, in increasing order; nil if
// the surface is complete.
func (s *Surface) Missing() []int {
	var m []int
	for i, ok := range s.Mask {
		if !ok {
			m = append(m, i)
		}
	}
	return m
}

// Min returns the point with the smallest value of channel among those
// computed, ignoring NaN values, and that value; the first such point if
// several share it. It returns -1 and NaN if there is none or no such
// channel.
func (s *Surface) Min(channel string) (i int, v float64) {
	i, v = -1, math.NaN()
	vals, ok := s.Values[channel]
	if !ok {
		return i, v
	}
	for k, x := range vals {
		if k < len(s.Mask) && s.Mask[k] && !math.IsNaN(x) && (i < 0 || x < v) {
			i, v = k, x
		}
	}
	return i, v
}

// WriteFile writes s to path as a Store writes its file, atomically.
func (s *Surface) WriteFile(path string) error {
	values := make([][]float64, len(s.Channels))
	for c, name := range s.Channels {
		values[c] = s.Values[name]
		if len(values[c]) != s.Grid.Len() {
			return fmt.Errorf("sweep: %s: channel %q has %d values, the grid %d points", path, name, len(values[c]), s.Grid.Len())
		}
	}
	if len(s.Mask) != s.Grid.Len() {
		return fmt.Errorf("sweep: %s: the mask has %d values, the grid %d points", path, len(s.Mask), s.Grid.Len())
	}
	mask := make([]float64, len(s.Mask))
	for i, ok := range s.Mask {
		if ok {
			mask[i] = 1
		}
	}
	if err := npz.WriteFile(path, surfaceEntries(s.Grid, s.Channels, values, mask)); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

// Merge combines the results in the output folder dir: surface.npz, if
// there is one, and every shard-I-of-N.npz, which must all have the same N.
// Every file must hold the grid and channels of dir's manifest.json. A
// point computed in several files takes its values from the first:
// surface.npz, then the shards in order of I. Merge writes the whole to
// surface.npz, atomically, and returns it; points that no file holds stay
// masked out (Surface.Missing lists them), so that a run with shards still
// to finish can be looked at, and later merged again.
//
// Merge refuses a folder without manifest.json (the error matches
// fs.ErrNotExist), one without result files, shards of different counts
// and files whose grid or channels disagree with the manifest.
func Merge(dir string) (*Surface, error) {
	m, err := ReadManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sweep: %s holds no %s, so it is no sweep output folder: %w", dir, ManifestName, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	files, err := resultFiles(dir)
	if err != nil {
		return nil, err
	}
	var shards []Shard
	var names []string
	hasSurface := false
	for _, f := range files {
		sh, ok := parseShardName(f)
		if !ok {
			hasSurface = true
			continue
		}
		if sh.Index >= sh.Count {
			return nil, fmt.Errorf("sweep: %s: shard %d of %d does not exist (indices are 0-based)", filepath.Join(dir, f), sh.Index, sh.Count)
		}
		if len(shards) > 0 && sh.Count != shards[0].Count {
			return nil, fmt.Errorf("sweep: %s holds shards of two runs: %s and %s (remove the files of the one not wanted)", dir, names[0], f)
		}
		shards = append(shards, sh)
		names = append(names, f)
	}
	slices.SortFunc(names, func(a, b string) int {
		x, _ := parseShardName(a)
		y, _ := parseShardName(b)
		return x.Index - y.Index
	})
	if hasSurface {
		names = append([]string{SurfaceName}, names...)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("sweep: %s holds no %s or shard-I-of-N.npz files to merge", dir, SurfaceName)
	}
	n := m.Grid.Len()
	out := &Surface{
		Grid:     m.Grid,
		Channels: m.Channels,
		Values:   make(map[string][]float64, len(m.Channels)),
		Mask:     make([]bool, n),
	}
	for _, c := range m.Channels {
		v := make([]float64, n)
		for i := range v {
			v[i] = math.NaN()
		}
		out.Values[c] = v
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		sf, err := ReadSurface(path)
		if err != nil {
			return nil, err
		}
		if err := sf.agrees(path, m.Grid, m.Channels); err != nil {
			return nil, err
		}
		for i, ok := range sf.Mask {
			if !ok || out.Mask[i] {
				continue
			}
			out.Mask[i] = true
			for _, c := range m.Channels {
				out.Values[c][i] = sf.Values[c][i]
			}
		}
	}
	if err := out.WriteFile(filepath.Join(dir, SurfaceName)); err != nil {
		return nil, err
	}
	return out, nil
}

// pointName returns "point i (x=X, y=Y)" for messages.
func pointName(g Grid, i int) string {
	x, y := g.Coord(i)
	s := "point " + strconv.Itoa(i) + " (x=" + strconv.FormatFloat(x, 'g', -1, 64)
	if g.Is2D() {
		s += ", y=" + strconv.FormatFloat(y, 'g', -1, 64)
	}
	return s + ")"
}
