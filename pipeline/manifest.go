package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/lsweep/lsweep/sweep"
)

// Manifest is a run's manifest.json: the one type that writes it (through
// sweep.Open, which compares it with the folder's on resume) and reads it.
type Manifest struct {
	Identity Identity   `json:"identity"`
	Grid     sweep.Grid `json:"grid"`
	Channels []string   `json:"channels"`
	Info     Info       `json:"info"`
}

// Identity is what determines a run's values (see landscape.Identity and
// landscape.WithHessian.Identity); two runs with equal identities and grids
// compute the same points.
type Identity struct {
	Seed          uint64 `json:"seed"`
	Norm          string `json:"norm"`
	Ignore        string `json:"ignore"`
	DirType       string `json:"dir_type"`
	Orthogonalize bool   `json:"orthogonalize"`
	XKey          string `json:"x_key"`
	YKey          string `json:"y_key"`
	Samples       int    `json:"samples"`
	Head          string `json:"head"`
	Output        string `json:"output"`
	TwoD          bool   `json:"two_d"`

	ModelSHA256          string `json:"model_sha256"`
	DataSHA256           string `json:"data_sha256"`
	Model2SHA256         string `json:"model2_sha256,omitempty"`
	Model3SHA256         string `json:"model3_sha256,omitempty"`
	DirectionsFileSHA256 string `json:"directions_file_sha256,omitempty"`
	DirectionsSHA256     string `json:"directions_sha256"`

	*HessianIdentity   // convexity maps only
	*ToleranceIdentity // runs with a tolerance only

	// Other holds keys this type does not name, kept as they are, so that
	// a setting added to landscape.Identity still decides a resume.
	Other map[string]any `json:"-"`
}

// HessianIdentity is what a convexity map adds to a run's identity.
type HessianIdentity struct {
	Samples int     `json:"hessian_samples"`
	Tol     float64 `json:"hessian_tol"`
	MaxIter int     `json:"hessian_max_iter"`
	Seed    uint64  `json:"hessian_seed"`
	HVP     string  `json:"hessian_hvp"`
}

// Info is what a manifest records without comparing it on resume.
type Info struct {
	Model          string `json:"model"`
	Data           string `json:"data"`
	Model2         string `json:"model2,omitempty"`
	Model3         string `json:"model3,omitempty"`
	DirectionsFile string `json:"directions_file,omitempty"`
	Go             string `json:"go"`
	Lsweep         string `json:"lsweep"`
	LsweepRevision string `json:"lsweep_revision,omitempty"`
	ONNXRuntime    string `json:"onnxruntime,omitempty"`
	Device         string `json:"device"`
	BatchSize      int    `json:"batch_size"`
	Sessions       int    `json:"sessions"`

	Other map[string]any `json:"-"` // keys this type does not name
}

// Interpolation reports whether the run's x direction is a difference of
// models.
func (m *Manifest) Interpolation() bool { return m.Identity.Model2SHA256 != "" }

// ReadManifest reads the manifest.json of the output folder dir. The error
// matches fs.ErrNotExist if there is none.
func ReadManifest(dir string) (*Manifest, error) {
	sm, err := sweep.ReadManifest(dir) // checks the file
	if err != nil {
		return nil, err
	}
	// Again with json.Numbers, which keep a 64-bit seed's digits.
	name := filepath.Join(dir, sweep.ManifestName)
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(sm); err != nil {
		return nil, fmt.Errorf("pipeline: %s: %w", name, err)
	}
	m, err := manifestOf(*sm)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %s: %w", name, err)
	}
	return m, nil
}

// manifestOf types a sweep.Manifest.
func manifestOf(sm sweep.Manifest) (*Manifest, error) {
	m := &Manifest{Grid: sm.Grid, Channels: sm.Channels}
	var err error
	if m.Identity.Other, err = fromMap(sm.Identity, &m.Identity); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if m.Info.Other, err = fromMap(sm.Info, &m.Info); err != nil {
		return nil, fmt.Errorf("info: %w", err)
	}
	return m, nil
}

// sweepManifest is m in the form sweep.Open writes and compares.
func (m *Manifest) sweepManifest() (sweep.Manifest, error) {
	id, err := toMap(&m.Identity, m.Identity.Other)
	if err != nil {
		return sweep.Manifest{}, err
	}
	info, err := toMap(&m.Info, m.Info.Other)
	if err != nil {
		return sweep.Manifest{}, err
	}
	return sweep.Manifest{Identity: id, Grid: m.Grid, Channels: m.Channels, Info: info}, nil
}

// toMap returns v's JSON object as a map, with other's keys added. Numbers
// stay json.Numbers, so that a 64-bit seed keeps every digit.
func toMap(v any, other map[string]any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("pipeline: manifest: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("pipeline: manifest: %w", err)
	}
	for k, x := range other {
		m[k] = x
	}
	return m, nil
}

// fromMap fills dst, a pointer to a struct, from m and returns m's keys
// that dst's fields do not name.
func fromMap(m map[string]any, dst any) (map[string]any, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return nil, err
	}
	known := jsonNames(reflect.TypeOf(dst).Elem(), nil)
	var other map[string]any
	for k, v := range m {
		if !known[k] {
			if other == nil {
				other = make(map[string]any)
			}
			other[k] = v
		}
	}
	return other, nil
}

// jsonNames adds the JSON names of struct type t's fields, those of
// embedded structs included, to names.
func jsonNames(t reflect.Type, names map[string]bool) map[string]bool {
	if names == nil {
		names = make(map[string]bool)
	}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			jsonNames(ft, names)
			continue
		}
		names[name] = true
	}
	return names
}

// table is the whole manifest as the report's table shows it.
func (m *Manifest) table() map[string]any {
	id, err1 := toMap(&m.Identity, m.Identity.Other)
	info, err2 := toMap(&m.Info, m.Info.Other)
	if err1 != nil || err2 != nil {
		return nil
	}
	return map[string]any{"version": sweep.ManifestVersion, "identity": id, "grid": m.Grid, "channels": m.Channels, "info": info}
}
