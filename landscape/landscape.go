package landscape

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/estimate"
	"github.com/lsweep/lsweep/internal/scratch"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/onnx"
)

// Config describes a landscape. The zero value of each optional field means
// the method's defaults: random filter-normalised directions from seed 0,
// biases and BatchNorm parameters left out, one direction (a 1-D landscape).
// With Model2, a zero Normalize.DirType means normalize.DirStates:
// interpolating between two models moves their BatchNorm statistics too.
type Config struct {
	Model   string          // the model file (the centre, th)
	Data    string          // an .npz file or a folder of .npy files
	Dataset dataset.Options // entry names and subset
	Engine  engine.Options  // library, device, threads, batch size, head

	// Directions: a file of saved directions; otherwise Model2 (x = Model2 -
	// Model) and Model3 (y = Model3 - Model); otherwise random directions
	// drawn with Seed and normalised as Normalize says.
	DirectionsFile string
	Model2, Model3 string
	Seed           uint64
	Normalize      normalize.Options
	TwoD           bool // make a y direction too

	// Scratch, if not "", is a folder where Open may write the random
	// directions it makes, one tensor at a time, and then read them from,
	// memory-mapped, rather than hold them: for a model of a hundred million
	// weights that is a gigabyte of memory. SaveDirections then moves the
	// file to its place (a rename, when it is on the same file system).
	// Where the folder cannot be written, the directions are made in memory.
	Scratch string

	// Tolerance, if not nil, evaluates each point on growing prefixes of
	// one random order of the samples, drawn from Seed and the same at
	// every point, and stops as soon as the rule says the loss is within
	// the tolerance of the loss over every sample (package estimate). The
	// points then have the channels ToleranceChannels too. For the tokens
	// head the samples are sequences and the loss per token a ratio of
	// totals (estimate.Plan.LookRatio).
	Tolerance *estimate.Rule
}

// Channels are the values a Landscape computes at each point, in order.
var Channels = []string{"loss", "acc"}

// ToleranceChannels follow the others when Config.Tolerance is set: the
// standard error of the loss (0 where every sample was used) and the
// number of samples evaluated.
var ToleranceChannels = []string{"loss_se", "samples"}

// Landscape evaluates a model's loss at th + a*X + b*Y.
type Landscape struct {
	cfg    Config
	ev     *engine.Evaluator
	params []normalize.Param
	// X and Y are the directions (Y is nil for a 1-D landscape).
	X, Y *normalize.Direction
	// mapping holds the file X and Y are read from once they are saved
	// (SaveDirections) or when they come from a file: nil while they are
	// in memory. scratch is that file while it lies in Config.Scratch.
	mapping io.Closer
	scratch string
	hashes  map[string]string
	plan    estimate.Plan // with Config.Tolerance
	// The entries read: inputs (NAME=ENTRY, more than one input only) and labels.
	xKey, yKey, inputs string
}

// Open loads the model and the data, prepares the evaluator and makes the
// directions.
func Open(cfg Config) (*Landscape, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	m, err := loadModel(cfg.Model)
	if err != nil {
		return nil, err
	}
	return open(m, cfg)
}

// OpenModel is Open with the model already loaded from cfg.Model, for a
// caller that inspected it first; the landscape patches m's weights.
func OpenModel(m *onnx.Model, cfg Config) (*Landscape, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	if err := checkModel(m); err != nil {
		return nil, err
	}
	return open(m, cfg)
}

// resolved returns cfg with the defaults of its zero fields set, or an
// error naming settings that contradict each other.
func (cfg Config) resolved() (Config, error) {
	switch {
	case cfg.Model3 != "" && cfg.Model2 == "":
		return cfg, fmt.Errorf("landscape: Model3 %s needs Model2 (--model3 needs --model2): y = Model3 - Model goes with x = Model2 - Model", cfg.Model3)
	case cfg.DirectionsFile != "" && cfg.Model2 != "":
		return cfg, fmt.Errorf("landscape: DirectionsFile %s and Model2 %s both choose the x direction (--directions and --model2); give one", cfg.DirectionsFile, cfg.Model2)
	}
	if cfg.Model2 != "" && cfg.Normalize.DirType == "" {
		cfg.Normalize.DirType = normalize.DirStates
	}
	cfg.Normalize = cfg.Normalize.WithDefaults()
	return cfg, nil
}

func open(m *onnx.Model, cfg Config) (*Landscape, error) {
	if cfg.Dataset.Inputs == nil {
		cfg.Dataset.Inputs = engine.InputNames(m)
	}
	if cfg.Engine.Scratch == "" {
		cfg.Engine.Scratch = cfg.Scratch
	}
	l := &Landscape{cfg: cfg, hashes: make(map[string]string)}
	var err error
	d, err := dataset.Load(cfg.Data, cfg.Dataset)
	if err != nil {
		return nil, err
	}
	// Every loss of a surface would be NaN: refuse rather than compute one.
	if bad := d.CountNaN(); bad > 0 {
		return nil, fmt.Errorf("%w: %s: entry %q has %d NaN or infinite values, which make every loss NaN; drop or repair those samples", dataset.ErrNotFinite, cfg.Data, d.XKey, bad)
	}
	l.xKey, l.yKey = d.XKey, d.YKey
	if len(d.Inputs) > 1 {
		var ins []string
		for _, in := range d.Inputs {
			ins = append(ins, in.Name+"="+in.Key)
		}
		l.inputs = strings.Join(ins, ",")
	}
	if l.ev, err = engine.New(m, d, cfg.Engine); err != nil {
		return nil, err
	}
	if cfg.Tolerance != nil {
		if err := cfg.Tolerance.Check(); err != nil {
			l.Close()
			return nil, fmt.Errorf("landscape: %w", err)
		}
		l.plan = estimate.NewPlan(l.ev.Samples(), *cfg.Tolerance)
	}
	if l.params, err = paramsOf(l.ev.Params(), l.ev.Base32); err != nil {
		l.Close()
		return nil, err
	}
	if err := l.makeDirections(); err != nil {
		l.Close()
		return nil, err
	}
	// Making the directions read every base weight and left garbage of
	// about their size (each tensor drawn in float64): let both go before
	// the sweep's sessions need memory. For a small model this costs a
	// millisecond.
	l.ev.ReleaseBase()
	debug.FreeOSMemory()
	for key, path := range map[string]string{"model": cfg.Model, "data": cfg.Data, "model2": cfg.Model2, "model3": cfg.Model3, "directions_file": cfg.DirectionsFile} {
		if path == "" {
			continue
		}
		if l.hashes[key], err = hashPath(path, d.Entries()); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

func loadModel(path string) (*onnx.Model, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	if err := checkModel(m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkModel refuses a model without perturbable weights or whose weights
// cannot be patched in place.
func checkModel(m *onnx.Model) error {
	if _, err := m.Perturbable(); err != nil {
		return err
	}
	return m.CheckStorage()
}

// paramsOf describes a model's float tensors for package normalize: weights
// first, in the order of the ops that consume them (so that two exports of
// one network draw the same random numbers for the same layers), then the
// rest in file order.
func paramsOf(ps []onnx.Param, values func(string) []float32) ([]normalize.Param, error) {
	var weights, rest []normalize.Param
	order := map[string]int{}
	for _, p := range ps {
		if !p.DType.IsFloat() || p.Size() == 0 || p.Role == onnx.RoleConstant {
			continue
		}
		np := normalize.Param{Name: p.Name, Shape: p.Shape, FilterAxis: p.FilterAxis, FilterView: p.FilterView, Values: values(p.Name)}
		if np.Values == nil {
			return nil, fmt.Errorf("landscape: no values for tensor %q", p.Name)
		}
		switch {
		case p.Role == onnx.RoleWeight:
			np.Kind = normalize.Weight
			order[p.Name] = p.ConsumerIndex
			weights = append(weights, np)
			continue
		case p.Role.IsState():
			np.Kind = normalize.State
		case p.Role == onnx.RoleEmbedding:
			// After the weights, so that including the tables leaves the
			// weights' draws as they were.
			np.Kind = normalize.Embedding
		default:
			np.Kind = normalize.Trainable
		}
		rest = append(rest, np)
	}
	slices.SortStableFunc(weights, func(a, b normalize.Param) int { return cmp.Compare(order[a.Name], order[b.Name]) })
	return append(weights, rest...), nil
}

// ModelParams loads a model's float tensors as the directions see them
// (the order, kinds and filter axes Open uses), without ONNX Runtime: for
// a caller that compares models, such as the checkpoints of a trajectory.
func ModelParams(path string) ([]normalize.Param, error) { return modelParams(path) }

// modelParams loads another model's tensors for a difference direction.
func modelParams(path string) ([]normalize.Param, error) {
	m, err := loadModel(path)
	if err != nil {
		return nil, err
	}
	var lerr error
	ps, err := paramsOf(m.Params(), func(name string) []float32 {
		v, err := m.Value(name)
		if err != nil && lerr == nil {
			lerr = err
		}
		if v == nil {
			return nil
		}
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return f
	})
	if lerr != nil {
		return nil, lerr
	}
	return ps, err
}

func (l *Landscape) makeDirections() error {
	cfg := l.cfg
	var err error
	switch {
	case cfg.DirectionsFile != "":
		if l.X, l.Y, l.mapping, err = normalize.Map(cfg.DirectionsFile, l.params); err != nil {
			return l.constantsHint(err)
		}
		if cfg.TwoD && l.Y == nil {
			return fmt.Errorf("landscape: %s holds no y direction; a 2-D landscape needs one", cfg.DirectionsFile)
		}
		if !cfg.TwoD {
			l.Y = nil
		}
		return nil
	case cfg.Model2 != "":
		other, err := modelParams(cfg.Model2)
		if err != nil {
			return err
		}
		if l.X, err = normalize.Difference(l.params, other, cfg.Normalize.DirType); err != nil {
			return fmt.Errorf("landscape: %s and %s: %w", cfg.Model, cfg.Model2, err)
		}
	default:
		if cfg.Scratch != "" && !cfg.Normalize.Orthogonalize {
			if ok, err := l.randomToScratch(); ok || err != nil {
				return err
			}
		}
		if l.X, err = normalize.Random(l.params, l.rng(0), cfg.Normalize); err != nil {
			return err
		}
	}
	if cfg.TwoD {
		if cfg.Model3 != "" {
			other, err := modelParams(cfg.Model3)
			if err != nil {
				return err
			}
			if l.Y, err = normalize.Difference(l.params, other, cfg.Normalize.DirType); err != nil {
				return fmt.Errorf("landscape: %s and %s: %w", cfg.Model, cfg.Model3, err)
			}
		} else if l.Y, err = normalize.Random(l.params, l.rng(1), cfg.Normalize); err != nil {
			return err
		}
		if cfg.Normalize.Orthogonalize {
			normalize.Orthogonalize(l.Y, l.X)
		}
	}
	return nil
}

// constantsHint adds to a directions file's mismatch the reason when the
// tensors only the file holds are numbers the model keeps in Constant
// nodes (epsilons, attention scales, masks): lsweep moved those with
// --ignore none before it gave them the role constant, and moves them no
// more.
func (l *Landscape) constantsHint(err error) error {
	var me *normalize.MismatchError
	if !errors.As(err, &me) {
		return err
	}
	constant := map[string]bool{}
	for _, p := range l.ev.Params() {
		if p.Role == onnx.RoleConstant {
			constant[p.Name] = true
		}
	}
	var names []string
	for _, key := range me.OnlyB {
		if _, name, ok := strings.Cut(key, "/"); ok && constant[name] && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return err
	}
	return fmt.Errorf("%w; %d of them (%q first) are numbers the model keeps in Constant nodes, which no direction moves: the file comes from an older lsweep run with --ignore none, which moved them; make the directions again (leave --directions off)", err, len(names), names[0])
}

// randomToScratch makes the random directions in a file of Config.Scratch
// and maps it. ok is false, with no error, when the folder cannot be
// written: the caller makes them in memory instead.
func (l *Landscape) randomToScratch() (ok bool, err error) {
	path, err := scratch.Create(l.cfg.Scratch, "directions", "npz")
	if err != nil {
		return false, nil
	}
	// Only the name is kept: the file is written afresh, with the
	// permissions of a new file rather than CreateTemp's private ones.
	os.Remove(path)
	rngs := []*rand.Rand{l.rng(0)}
	if l.cfg.TwoD {
		rngs = append(rngs, l.rng(1))
	}
	if err = normalize.SaveRandom(path, l.params, rngs, l.cfg.Normalize); err == nil {
		l.X, l.Y, l.mapping, err = normalize.Map(path, l.params)
	}
	if err != nil {
		os.Remove(path)
		return false, err
	}
	l.scratch = path
	return true, nil
}

// release lets the system drop the pages of the directions' file that
// have been read (see npz.Mapped.Release); nothing when they are in memory.
func (l *Landscape) release() {
	if r, ok := l.mapping.(interface{ Release() }); ok {
		r.Release()
	}
}

// rng returns the generator of direction k.
func (l *Landscape) rng(k int) *rand.Rand { return Generator(l.cfg.Seed, k) }

// Generator returns the random generator of direction k of a seed: one
// stream per direction, so that the x direction (k = 0) of a 2-D run equals
// that of a 1-D run with the same seed, and a flatness comparison's
// directions 0 and 1 are a run's x and y.
func Generator(seed uint64, k int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x6c7377656570+uint64(k)))
}

// Evaluate returns the loss and accuracy at th + a*X + b*Y (b is ignored for
// a 1-D landscape), and with a tolerance the standard error and the samples
// used: the values of Channels(). It makes Landscape a sweep.Evaluator.
func (l *Landscape) Evaluate(ctx context.Context, a, b float64) ([]float64, error) {
	res, err := l.At(ctx, a, b)
	if err != nil {
		return nil, err
	}
	return l.values(res, res.Loss, res.Accuracy), nil
}

// values appends the tolerance channels of res to v.
func (l *Landscape) values(res engine.Result, v ...float64) []float64 {
	if l.cfg.Tolerance != nil {
		v = append(v, res.SE, float64(res.N))
	}
	return v
}

// Channels returns the names of the values Evaluate returns.
func (l *Landscape) Channels() []string {
	if l.cfg.Tolerance != nil {
		return slices.Concat(Channels, ToleranceChannels)
	}
	return Channels
}

// At returns the evaluation at th + a*X + b*Y: over every sample, or with
// a tolerance over the prefix of the seed's order that meets it.
func (l *Landscape) At(ctx context.Context, a, b float64) (engine.Result, error) {
	if l.cfg.Tolerance != nil {
		return l.ev.EvaluateMoveSequential(ctx, l.move(a, b), l.plan, l.cfg.Seed)
	}
	return l.ev.EvaluateMove(ctx, l.move(a, b))
}

// move is the point th + a*X + b*Y (th + a*X for a 1-D landscape) as the
// engine takes it: the directions' values are written into the model
// bytes without a copy of the weights.
func (l *Landscape) move(a, b float64) engine.Move {
	m := engine.Move{Coefs: []float64{a}, Dirs: []map[string][]float32{l.X.Values}}
	if l.Y != nil {
		m = engine.Move{Coefs: []float64{a, b}, Dirs: []map[string][]float32{l.X.Values, l.Y.Values}}
	}
	if r, ok := l.mapping.(interface{ ReleaseValues([]float32) }); ok {
		m.Done = func(name string) {
			for _, d := range m.Dirs {
				r.ReleaseValues(d[name])
			}
		}
	}
	return m
}

// AtFull returns the evaluation at th + a*X + b*Y over every sample,
// whatever the tolerance: the reference a tolerance is checked against.
func (l *Landscape) AtFull(ctx context.Context, a, b float64) (engine.Result, error) {
	return l.ev.EvaluateMove(ctx, l.move(a, b))
}

// Plan returns the sequential plan of a landscape with a tolerance (the
// zero Plan without one).
func (l *Landscape) Plan() estimate.Plan { return l.plan }

// SaveDirections writes the directions to an .npz file (entries
// x/<tensor> and y/<tensor>) and from then on reads them from it,
// memory-mapped (normalize.Map): the process then holds no copy of its
// own, which for a model of a hundred million weights is half of what a
// sweep would otherwise hold.
func (l *Landscape) SaveDirections(path string) error {
	if l.scratch != "" {
		if err := os.Rename(l.scratch, path); err == nil {
			l.scratch = ""
			return nil
		}
	}
	if err := normalize.Save(path, l.X, l.Y); err != nil {
		return err
	}
	x, y, mapping, err := normalize.Map(path, l.params)
	if err != nil {
		return err
	}
	old := l.mapping
	l.X, l.Y, l.mapping = x, y, mapping
	if old != nil {
		old.Close()
	}
	if l.scratch != "" {
		os.Remove(l.scratch)
		l.scratch = ""
	}
	// The copies just dropped can be as large as the model: give their
	// memory back now rather than when the runtime gets to it.
	debug.FreeOSMemory()
	return nil
}

// Engine returns the evaluator the landscape runs on.
func (l *Landscape) Engine() *engine.Evaluator { return l.ev }

// Params returns the tensors the directions are defined over.
func (l *Landscape) Params() []normalize.Param { return l.params }

// Identity returns what determines the landscape's values: the sha256 of
// every input file, the seed, the normalisation and the evaluation options
// that change the loss. Two runs with equal identities and grids compute the
// same points.
func (l *Landscape) Identity() map[string]any {
	cfg := l.cfg
	id := map[string]any{
		"seed":          cfg.Seed,
		"norm":          string(cfg.Normalize.Norm),
		"ignore":        string(cfg.Normalize.Ignore),
		"dir_type":      string(cfg.Normalize.DirType),
		"orthogonalize": cfg.Normalize.Orthogonalize,
		"x_key":         l.xKey,
		"y_key":         l.yKey,
		"samples":       l.ev.Samples(),
		"head":          string(l.ev.Head()),
		"output":        l.ev.Output().Name,
		"two_d":         cfg.TwoD,
	}
	if l.inputs != "" {
		id["inputs"] = l.inputs
	}
	if cfg.Normalize.Embeddings {
		// Only when set, so that the runs made before it keep their identity.
		id["include"] = "embeddings"
	}
	if t := cfg.Tolerance; t != nil {
		// Only when set, so that runs without one keep their identity.
		id["estimate_rel"], id["estimate_abs"] = t.Rel, t.Abs
		id["estimate_delta"], id["estimate_first"] = l.plan.Delta, l.plan.First
	}
	if l.ev.Head() == loss.Tokens {
		seq := l.ev.Sequence()
		id["ignore_index"], id["shift_labels"] = seq.IgnoreIndex, seq.Shift
	}
	for k, v := range l.hashes {
		id[k+"_sha256"] = v
	}
	// The directions themselves, not only what made them: a manifest edited
	// to other settings cannot pass for the folder's results.
	id["directions_sha256"] = directionsHash(l.X, l.Y)
	l.release()
	return id
}

// directionsHash is the sha256 of the directions' names and values (float64
// bits, little-endian), x then y.
func directionsHash(dirs ...*normalize.Direction) string {
	h := sha256.New()
	var buf [8]byte
	for _, d := range dirs {
		if d == nil {
			continue
		}
		for _, name := range d.Names {
			io.WriteString(h, name)
			for _, v := range d.Values[name] {
				binary.LittleEndian.PutUint64(buf[:], math.Float64bits(float64(v)))
				h.Write(buf[:])
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Info returns what a manifest records about a run without comparing it
// on resume.
func (l *Landscape) Info() map[string]any {
	rt, _ := engine.Init("")
	info := map[string]any{
		"model":      l.cfg.Model,
		"data":       l.cfg.Data,
		"go":         runtime.Version(),
		"batch_size": l.ev.BatchSize(),
		"sessions":   l.ev.Sessions(),
		"device":     cmp.Or(l.cfg.Engine.Device, "cpu"),
	}
	if rt != nil {
		info["onnxruntime"] = rt.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info["lsweep"] = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info["lsweep_revision"] = s.Value
			}
		}
	}
	for k, v := range map[string]string{"model2": l.cfg.Model2, "model3": l.cfg.Model3, "directions_file": l.cfg.DirectionsFile} {
		if v != "" {
			info[k] = v
		}
	}
	return info
}

// Close releases the evaluator and the directions' file; the directions
// must not be used after it.
func (l *Landscape) Close() error {
	var err error
	if l.ev != nil {
		err = l.ev.Close()
	}
	if l.mapping != nil {
		l.X, l.Y = nil, nil
		if merr := l.mapping.Close(); err == nil {
			err = merr
		}
		l.mapping = nil
	}
	if l.scratch != "" {
		os.Remove(l.scratch)
		l.scratch = ""
	}
	return err
}

// hashPath returns the sha256 of a file, or of the .npy files of the
// entries lsweep reads from a data folder.
func hashPath(path string, entries []string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("landscape: %w", err)
	}
	h := sha256.New()
	files := []string{path}
	if st.IsDir() {
		files = nil
		for _, e := range entries {
			files = append(files, filepath.Join(path, strings.TrimSuffix(e, ".npy")+".npy"))
		}
	}
	for _, f := range files {
		if err := hashFile(h, f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("landscape: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("landscape: %s: %w", path, err)
	}
	return nil
}
