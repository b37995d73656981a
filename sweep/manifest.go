package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/lsweep/lsweep/internal/atomicfile"
)

// ManifestName is the name of the file in an output folder that describes
// the run whose results it holds.
const ManifestName = "manifest.json"

// ManifestVersion is the version of the manifest and surface layout that
// this package writes and reads.
const ManifestVersion = 1

// Manifest identifies a run and records how it was made.
//
// Identity holds every setting that changes the values: the hashes of the
// model and the data, the seed, the directions and so on. Open compares it
// with the Identity of the run already in a folder, after a JSON round
// trip, so numbers compare as float64 whatever their Go type; integers
// beyond 2^53, such as 64-bit hashes, should be given as strings. Info
// holds what is recorded but not compared: versions, threads, host, times.
// Grid and Channels are compared as Identity is. Channels names the values
// of each point, in the order the Evaluator returns them, such as "loss"
// and "accuracy".
type Manifest struct {
	Identity map[string]any `json:"identity"`
	Grid     Grid           `json:"grid"`
	Channels []string       `json:"channels"`
	Info     map[string]any `json:"info,omitempty"`
}

// manifestFile is the JSON form of manifest.json.
type manifestFile struct {
	Version int `json:"version"`
	Manifest
}

// check returns an error if m cannot describe a run.
func (m *Manifest) check() error {
	if err := m.Grid.check(); err != nil {
		return err
	}
	if len(m.Channels) == 0 {
		return errors.New("sweep: the manifest names no channels")
	}
	for i, c := range m.Channels {
		switch {
		case c == "":
			return fmt.Errorf("sweep: channel %d has no name", i)
		case c == "mask" || c == "xcoordinates" || c == "ycoordinates":
			return fmt.Errorf("sweep: channel name %q is reserved", c)
		case slices.Index(m.Channels, c) != i:
			return fmt.Errorf("sweep: channel %q is named twice", c)
		}
	}
	return nil
}

// encode returns manifest.json's contents for m.
func (m *Manifest) encode() ([]byte, error) {
	b, err := json.MarshalIndent(manifestFile{Version: ManifestVersion, Manifest: *m}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sweep: manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// decodeManifest parses manifest.json's contents; name is the file's name
// for errors.
func decodeManifest(name string, b []byte) (*Manifest, error) {
	var f manifestFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("sweep: %s: %w", name, err)
	}
	if f.Version != ManifestVersion {
		return nil, fmt.Errorf("sweep: %s: version %d, this program reads version %d", name, f.Version, ManifestVersion)
	}
	if err := f.Manifest.check(); err != nil {
		return nil, fmt.Errorf("sweep: %s: %s", name, strings.TrimPrefix(err.Error(), "sweep: "))
	}
	return &f.Manifest, nil
}

// ReadManifest reads the manifest.json of the output folder dir. The error
// matches fs.ErrNotExist if there is none.
func ReadManifest(dir string) (*Manifest, error) {
	name := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	return decodeManifest(name, b)
}

// writeManifest writes b to dir's manifest.json unless there is one, with
// atomicfile.WriteNew, so that of several shards starting at once one
// writes the manifest and the others read it. The error matches
// fs.ErrExist if there is a manifest.
func writeManifest(dir string, b []byte) error {
	name := filepath.Join(dir, ManifestName)
	if err := atomicfile.WriteNew(name, b, 0o644); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("sweep: %s: %w", name, fs.ErrExist)
		}
		return fmt.Errorf("sweep: writing %s: %w", name, err)
	}
	return nil
}

// Difference is one way in which two runs differ: the setting Key (an
// Identity key, "grid x", "grid y" or "channels") and its values in the
// run already in a folder (Old) and in the new one (New), as a JSON round
// trip gives them; nil means the setting is absent.
type Difference struct {
	Key      string
	Old, New any
}

// MismatchError is the error Open returns when a folder holds the results
// of another run.
type MismatchError struct {
	Dir         string
	Differences []Difference // grid and channels first, then Identity keys in sorted order
}

// maxShown is how many differences a MismatchError names.
const maxShown = 3

// Error says how the runs differ, naming at most three differences:
// "sweep: OUT holds a run with seed 1, this one has seed 2 (use --force to
// start over)".
func (e *MismatchError) Error() string {
	d := e.Differences
	more := ""
	if len(d) > maxShown {
		more = fmt.Sprintf("; %d more settings differ", len(d)-maxShown)
		d = d[:maxShown]
	}
	var old, cur []string
	for _, x := range d {
		old = append(old, describe(x.Key, x.Old))
		cur = append(cur, describe(x.Key, x.New))
	}
	return fmt.Sprintf("sweep: %s holds a run with %s, this one has %s%s (use --force to start over)",
		e.Dir, list(old), list(cur), more)
}

// list joins s as "a", "a and b", "a, b and c".
func list(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// describe returns "key value", or "no key" for an absent setting.
func describe(key string, v any) string {
	switch v := v.(type) {
	case nil:
		return "no " + key
	case string:
		if v != "" && !strings.ContainsAny(v, " ,\t\n\"") {
			return key + " " + v
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%s %v", key, v)
	}
	const maxLen = 80
	if len(b) > maxLen {
		b = append(b[:maxLen-3:maxLen-3], "..."...)
	}
	return key + " " + string(b)
}

// compare returns the differences between the manifest old, read from a
// folder, and m, after a JSON round trip of m.
func compare(old, m *Manifest) ([]Difference, error) {
	b, err := m.encode()
	if err != nil {
		return nil, err
	}
	cur, err := decodeManifest(ManifestName, b)
	if err != nil {
		return nil, err
	}
	var d []Difference
	if !old.Grid.X.same(cur.Grid.X) {
		d = append(d, Difference{"grid x", old.Grid.X.String(), cur.Grid.X.String()})
	}
	if old.Grid.Is2D() != cur.Grid.Is2D() || (old.Grid.Is2D() && !old.Grid.Y.same(cur.Grid.Y)) {
		d = append(d, Difference{"grid y", axisValue(old.Grid), axisValue(cur.Grid)})
	}
	if !slices.Equal(old.Channels, cur.Channels) {
		d = append(d, Difference{"channels", anySlice(old.Channels), anySlice(cur.Channels)})
	}
	keys := make([]string, 0, len(old.Identity)+len(cur.Identity))
	for k := range old.Identity {
		keys = append(keys, k)
	}
	for k := range cur.Identity {
		if _, ok := old.Identity[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		o, ok1 := old.Identity[k]
		n, ok2 := cur.Identity[k]
		if ok1 != ok2 || !reflect.DeepEqual(o, n) {
			d = append(d, Difference{k, o, n})
		}
	}
	return d, nil
}

func axisValue(g Grid) any {
	if !g.Is2D() {
		return nil
	}
	return g.Y.String()
}

func anySlice(s []string) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}

// RewriteManifest replaces the manifest.json of dir by m, atomically, to
// record what a run learnt at its end in Info. m must describe the run
// the folder holds: its Identity, Grid and Channels must equal those of
// the manifest there.
func RewriteManifest(dir string, m Manifest) error {
	old, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	m.Grid = m.Grid.norm()
	diffs, err := compare(old, &m)
	if err != nil {
		return err
	}
	if len(diffs) > 0 {
		return &MismatchError{Dir: dir, Differences: diffs}
	}
	b, err := m.encode()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ManifestName), b, 0o644); err != nil {
		return fmt.Errorf("sweep: writing %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return nil
}
