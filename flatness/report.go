package flatness

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of a comparison.
type Report struct {
	// Verdict is Pass or Fail; Finding is FindingSame, FindingSharper,
	// FindingFlatter or FindingMixed; Summary says it in a sentence.
	Verdict, Finding, Summary string
	// Partial is set when the comparison was interrupted: the metrics
	// then come from Settings.Directions complete directions.
	Partial bool

	Base, Candidate ModelSummary
	Data            DataSummary
	// SameArchitecture is true when the two graphs have the same ops in the
	// same order and the same float tensors (names and shapes).
	SameArchitecture bool
	// SameDraws is true when both models' directions come from the same
	// random numbers (their weights have the same sizes in the same order).
	SameDraws bool
	Settings  Settings

	// Metrics holds every metric, in the order of the package's Metrics.
	Metrics []MetricResult
	// X holds the slice coordinates; BaseSlices and CandidateSlices the
	// slices, one row per direction.
	X                           []float64
	BaseSlices, CandidateSlices Slices

	// Notes are sentences on what the comparison decided on the caller's
	// behalf.
	Notes []string
	// Seconds is the wall time of the comparison.
	Seconds float64
}

// ModelSummary describes one model of a comparison.
type ModelSummary struct {
	Path, Label string
	SHA256      string
	Head        string // the loss head
	Output      string // the graph output the loss is computed on
	Ops         int    // nodes in the graph
	// Tensors and Values count what the directions move.
	Tensors, Values int
	// CentreLoss and CentreAccuracy are the model's loss and accuracy at
	// its own weights (accuracy NaN for regression).
	CentreLoss, CentreAccuracy float64
}

// DataSummary describes the data of a comparison.
type DataSummary struct {
	Path    string
	SHA256  string
	Samples int // samples evaluated at every point
}

// Settings are the resolved options of a comparison.
type Settings struct {
	Directions, Points    int
	Radius, Rise          float64
	Seed                  uint64
	Norm, Ignore, DirType string
	// Include names the tensors moved beyond the weights ("embeddings"),
	// empty when none: a comparison with them is not one without them.
	Include    []string
	Noise      float64
	Thresholds map[string]float64
	Hessian    bool
}

// Metric returns the named metric's result, and false if the report has
// none.
func (r *Report) Metric(name string) (MetricResult, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return MetricResult{}, false
}

// ---------------------------------------------------------------------------
// JSON

// SchemaVersion is the "version" field of the JSON report; it changes only
// when a field is renamed or removed or changes meaning.
const SchemaVersion = 1

// The JSON form of a report. Field names are stable (see SchemaVersion);
// numbers that are NaN or infinite are written as null.
type (
	jsonReport struct {
		Version          int          `json:"version"`
		Verdict          string       `json:"verdict"`
		Finding          string       `json:"finding"`
		Summary          string       `json:"summary"`
		Partial          bool         `json:"partial"`
		Base             jsonModel    `json:"base"`
		Candidate        jsonModel    `json:"candidate"`
		Data             jsonData     `json:"data"`
		SameArchitecture bool         `json:"same_architecture"`
		SameDraws        bool         `json:"same_draws"`
		Settings         jsonSettings `json:"settings"`
		Metrics          []jsonMetric `json:"metrics"`
		Slices           jsonSlices   `json:"slices"`
		Notes            []string     `json:"notes"`
		Seconds          *float64     `json:"seconds"`
	}
	jsonModel struct {
		Path           string   `json:"path"`
		Label          string   `json:"label"`
		SHA256         string   `json:"sha256"`
		Head           string   `json:"head"`
		Output         string   `json:"output"`
		Ops            int      `json:"ops"`
		Tensors        int      `json:"tensors"`
		Values         int      `json:"values"`
		CentreLoss     *float64 `json:"centre_loss"`
		CentreAccuracy *float64 `json:"centre_accuracy"`
	}
	jsonData struct {
		Path    string `json:"path"`
		SHA256  string `json:"sha256"`
		Samples int    `json:"samples"`
	}
	jsonSettings struct {
		Directions int                 `json:"directions"`
		Points     int                 `json:"points"`
		Radius     *float64            `json:"radius"`
		Rise       *float64            `json:"rise"`
		Seed       uint64              `json:"seed"`
		Norm       string              `json:"norm"`
		Ignore     string              `json:"ignore"`
		DirType    string              `json:"dir_type"`
		Include    []string            `json:"include"`
		Noise      *float64            `json:"noise"`
		Thresholds map[string]*float64 `json:"thresholds"`
		Hessian    bool                `json:"hessian"`
	}
	jsonMetric struct {
		Name         string      `json:"name"`
		Title        string      `json:"title"`
		Description  string      `json:"description"`
		WorseWhen    string      `json:"worse_when"`
		Flatness     bool        `json:"flatness"`
		Available    bool        `json:"available"`
		Reason       string      `json:"reason"`
		Base         *jsonSample `json:"base"`
		Candidate    *jsonSample `json:"candidate"`
		Difference   *float64    `json:"difference"`
		ChangePct    *float64    `json:"change_pct"`
		WorseningPct *float64    `json:"worsening_pct"`
		Noise        *float64    `json:"noise"`
		ThresholdPct *float64    `json:"threshold_pct"`
		Status       string      `json:"status"`
		Pass         bool        `json:"pass"`
	}
	jsonSample struct {
		Value        *float64   `json:"value"`
		Spread       *float64   `json:"spread"`
		PerDirection []*float64 `json:"per_direction"`
		Censored     int        `json:"censored"`
	}
	jsonSlices struct {
		X         []*float64     `json:"x"`
		Base      jsonModelSlice `json:"base"`
		Candidate jsonModelSlice `json:"candidate"`
	}
	jsonModelSlice struct {
		Loss     [][]*float64 `json:"loss"`
		Accuracy [][]*float64 `json:"accuracy"`
	}
)

// num returns v, or nil when it is NaN or infinite.
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func nums(v []float64) []*float64 {
	out := make([]*float64, len(v))
	for i, x := range v {
		out[i] = num(x)
	}
	return out
}

func rows(v [][]float64) [][]*float64 {
	out := make([][]*float64, len(v))
	for i, r := range v {
		out[i] = nums(r)
	}
	return out
}

func jsonModelOf(m ModelSummary) jsonModel {
	return jsonModel{Path: m.Path, Label: m.Label, SHA256: m.SHA256, Head: m.Head, Output: m.Output, Ops: m.Ops,
		Tensors: m.Tensors, Values: m.Values, CentreLoss: num(m.CentreLoss), CentreAccuracy: num(m.CentreAccuracy)}
}

// MarshalJSON returns the report's JSON form, whose fields docs/compare.md
// lists.
func (r *Report) MarshalJSON() ([]byte, error) {
	j := jsonReport{
		Version: SchemaVersion, Verdict: r.Verdict, Finding: r.Finding, Summary: r.Summary, Partial: r.Partial,
		Base: jsonModelOf(r.Base), Candidate: jsonModelOf(r.Candidate),
		Data:             jsonData{Path: r.Data.Path, SHA256: r.Data.SHA256, Samples: r.Data.Samples},
		SameArchitecture: r.SameArchitecture, SameDraws: r.SameDraws,
		Settings: jsonSettings{
			Directions: r.Settings.Directions, Points: r.Settings.Points, Radius: num(r.Settings.Radius),
			Rise: num(r.Settings.Rise), Seed: r.Settings.Seed, Norm: r.Settings.Norm, Ignore: r.Settings.Ignore,
			DirType: r.Settings.DirType, Include: append([]string{}, r.Settings.Include...), Noise: num(r.Settings.Noise), Thresholds: map[string]*float64{},
			Hessian: r.Settings.Hessian,
		},
		Metrics: []jsonMetric{},
		Slices: jsonSlices{
			X:         nums(r.X),
			Base:      jsonModelSlice{Loss: rows(r.BaseSlices.Loss), Accuracy: rows(r.BaseSlices.Acc)},
			Candidate: jsonModelSlice{Loss: rows(r.CandidateSlices.Loss), Accuracy: rows(r.CandidateSlices.Acc)},
		},
		Notes:   append([]string{}, r.Notes...),
		Seconds: num(r.Seconds),
	}
	for k, v := range r.Settings.Thresholds {
		j.Settings.Thresholds[k] = num(v)
	}
	for _, m := range r.Metrics {
		jm := jsonMetric{
			Name: m.Name, Title: m.Title, Description: m.Description, WorseWhen: "higher", Flatness: m.Flatness,
			Available: m.Available, Reason: m.Reason, Status: m.Status, Pass: m.Pass,
		}
		if !m.HigherIsWorse {
			jm.WorseWhen = "lower"
		}
		if m.Available {
			sample := func(s Sample) *jsonSample {
				return &jsonSample{Value: num(s.Value), Spread: num(s.Spread), PerDirection: nums(s.PerDirection), Censored: s.Censored}
			}
			jm.Base, jm.Candidate = sample(m.Base), sample(m.Candidate)
			jm.Difference, jm.ChangePct, jm.WorseningPct, jm.Noise = num(m.Difference), num(m.Change), num(m.Worsening), num(m.Noise)
		}
		if m.Checked {
			jm.ThresholdPct = num(m.Threshold)
		}
		j.Metrics = append(j.Metrics, jm)
	}
	return json.Marshal(j)
}

// WriteJSON writes the report as one indented JSON object and a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ---------------------------------------------------------------------------
// Text and Markdown

// word returns how a table names a metric's status.
func word(m MetricResult) string {
	switch m.Status {
	case StatusWorse:
		w := "sharper"
		if !m.Flatness {
			w = "higher"
		}
		if !m.Pass {
			return "FAIL: " + w
		}
		return w
	case StatusBetter:
		if !m.Flatness {
			return "lower"
		}
		return "flatter"
	case StatusUnavailable:
		if !m.Pass {
			return "FAIL: not a number"
		}
		return "unavailable"
	}
	return m.Status
}

func g(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return fmt.Sprintf("%.4g", v)
}

func valueCell(s Sample, perDirection bool) string {
	out := g(s.Value)
	if perDirection || s.Spread > 0 {
		out += " ± " + g(s.Spread)
	}
	if s.Censored > 0 {
		out += fmt.Sprintf(" (%d≥r)", s.Censored)
	}
	return out
}

// cells returns a metric's base, candidate, change, noise and limit cells.
func cells(m MetricResult) [5]string {
	var c [5]string
	if m.Status == StatusUnavailable && m.Pass {
		return [5]string{"–", "–", "–", "–", "–"}
	}
	per := m.Base.PerDirection != nil
	c[0], c[1] = valueCell(m.Base, per), valueCell(m.Candidate, per)
	switch {
	case m.Difference == 0:
		c[2] = "0"
	case math.IsInf(m.Change, 0):
		c[2] = fmt.Sprintf("%+.4g", m.Difference)
	case math.Abs(m.Change) < 0.05:
		c[2] = fmt.Sprintf("%+.1g%%", m.Change)
	default:
		c[2] = fmt.Sprintf("%+.1f%%", m.Change)
	}
	c[3] = "–"
	if m.Noise > 0 {
		c[3] = "±" + g(m.Noise)
	}
	c[4] = "–"
	if m.Checked {
		c[4] = pct(m.Threshold)
	}
	return c
}

// describe returns the settings in a sentence.
func (r *Report) describe() string {
	s := r.Settings
	norm := normWords(s.Norm)
	arch := "same architecture"
	if !r.SameArchitecture {
		arch = "different architectures, compared by their metrics"
	}
	if len(s.Include) > 0 {
		norm += " (" + strings.Join(s.Include, ", ") + " included)"
	}
	return fmt.Sprintf("%d %s random directions (seed %d), %d points on [-%s, %s], %d samples; rise radius at +%s loss; noise band %s× the spread across directions of the paired differences; %s.",
		s.Directions, norm, s.Seed, s.Points, g(s.Radius), g(s.Radius), r.Data.Samples, g(s.Rise), g(s.Noise), arch)
}

// WriteText writes the report as a table for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (%s)\n", strings.ToUpper(r.Verdict), r.Summary, r.Finding)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  base\t%s\tloss %s\tacc %s\n", r.Base.Label, g(r.Base.CentreLoss), accuracy(r.Base.CentreAccuracy))
	fmt.Fprintf(tw, "  candidate\t%s\tloss %s\tacc %s\n", r.Candidate.Label, g(r.Candidate.CentreLoss), accuracy(r.Candidate.CentreAccuracy))
	tw.Flush()
	fmt.Fprintf(&b, "  %s\n\n", r.describe())
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  metric\tbase\tcandidate\tchange\tnoise\tlimit\tstatus")
	for _, m := range r.Metrics {
		c := cells(m)
		status := word(m)
		if m.Status == StatusUnavailable && m.Reason != "" {
			status += ": " + m.Reason
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, c[0], c[1], c[2], c[3], c[4], status)
	}
	tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	fmt.Fprintf(&b, "  time: %.1fs\n", r.Seconds)
	_, err := io.WriteString(w, b.String())
	return err
}

func accuracy(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.4f", v)
}

// WriteMarkdown writes the report as Markdown for a CI job summary (GitHub
// Actions' $GITHUB_STEP_SUMMARY, a merge-request comment). If image is not
// empty, the report shows the picture at that path (relative to the
// Markdown file, as a link would be).
func (r *Report) WriteMarkdown(w io.Writer, image string) error {
	var b strings.Builder
	icon := "✅"
	if r.Verdict == Fail {
		icon = "❌"
	}
	fmt.Fprintf(&b, "### %s Flatness: %s (%s)\n\n%s\n\n", icon, r.Verdict, r.Finding, mdEscape(r.Summary))
	fmt.Fprintf(&b, "| | base | candidate |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| model | `%s` | `%s` |\n", r.Base.Label, r.Candidate.Label)
	fmt.Fprintf(&b, "| centre loss | %s | %s |\n", g(r.Base.CentreLoss), g(r.Candidate.CentreLoss))
	fmt.Fprintf(&b, "| centre accuracy | %s | %s |\n", accuracy(r.Base.CentreAccuracy), accuracy(r.Candidate.CentreAccuracy))
	fmt.Fprintf(&b, "| sha256 | `%.12s` | `%.12s` |\n\n", r.Base.SHA256, r.Candidate.SHA256)
	fmt.Fprintf(&b, "| metric | base | candidate | change | noise | limit | result |\n|---|--:|--:|--:|--:|--:|---|\n")
	for _, m := range r.Metrics {
		c := cells(m)
		status := word(m)
		switch {
		case !m.Pass:
			status = "❌ " + strings.TrimPrefix(status, "FAIL: ") + ", beyond the limit"
		case m.Status == StatusWorse:
			status = "⚠️ " + status
		case m.Status == StatusUnavailable && m.Reason != "":
			status += ": " + mdEscape(m.Reason)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", m.Title, c[0], c[1], c[2], c[3], c[4], status)
	}
	b.WriteString("\n")
	if image != "" {
		fmt.Fprintf(&b, "![loss along %d random directions, %s and %s](%s)\n\n", r.Settings.Directions, mdEscape(r.Base.Label), mdEscape(r.Candidate.Label), image)
	}
	fmt.Fprintf(&b, "%s", mdEscape(r.describe()))
	if r.Partial {
		b.WriteString(" **Interrupted: partial result.**")
	}
	b.WriteString("\n")
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n> %s\n", mdEscape(n))
	}
	b.WriteString("\n<details><summary>metrics</summary>\n\n")
	for _, m := range r.Metrics {
		fmt.Fprintf(&b, "- `%s` (%s): %s; %s when higher.\n", m.Name, m.Title, m.Description, map[bool]string{true: "worse", false: "better"}[m.HigherIsWorse])
	}
	fmt.Fprintf(&b, "\nA difference within the noise band is no difference, whatever its sign; a checked metric fails when it is worse beyond the band by more than its limit. Time: %.1f s.\n\n</details>\n", r.Seconds)
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscape escapes the characters of s that Markdown tables and emphasis
// would read.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;").Replace(s)
}
