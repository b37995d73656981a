package report_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/report"
)

func write(t *testing.T, r *report.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// scriptRE matches a script or style element, whose text is not markup.
var scriptRE = regexp.MustCompile(`(?is)<(script|style)\b[^>]*>.*?</(script|style)>`)

// attrRE finds the attributes that make a browser load something.
var attrRE = regexp.MustCompile(`(?i)\s(src|href|srcset|action|poster|data)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)

func TestPageIsSelfContained(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *report.Surface
	}{
		{"2-D", bowl(51, 3, 700, 1300)},
		{"1-D", curve(41, 7)},
		{"no surface", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := write(t, sampleReport(t, "Bowl <&> \"test\"", tc.s))
			if !strings.HasPrefix(page, "<!DOCTYPE html>") {
				t.Errorf("the page starts %q, want <!DOCTYPE html>", page[:min(len(page), 20)])
			}
			for _, bad := range []string{"http://", "https://", "//cdn", "@import", "<link rel=\"stylesheet\"", "<iframe", "<object", "<embed"} {
				if i := strings.Index(page, bad); i >= 0 {
					t.Errorf("the page holds %q: ...%s...", bad, page[max(0, i-60):min(len(page), i+60)])
				}
			}
			markup := scriptRE.ReplaceAllString(page, "")
			for _, m := range attrRE.FindAllStringSubmatch(markup, -1) {
				v := strings.Trim(m[2], `"'`)
				if !strings.HasPrefix(v, "data:") && !strings.HasPrefix(v, "#") {
					t.Errorf("%s=%q loads something from outside the page", m[1], v)
				}
			}
			for _, m := range regexp.MustCompile(`url\(\s*['"]?([^'")]*)`).FindAllStringSubmatch(page, -1) {
				if !strings.HasPrefix(m[1], "data:") {
					t.Errorf("url(%s) loads something from outside the page", m[1])
				}
			}
			if !strings.Contains(page, `content="default-src 'none'`) {
				t.Error("the page has no Content-Security-Policy that forbids loading")
			}
			// The two scripts close once each: neither the data nor the
			// script text ends a script early.
			if n := strings.Count(strings.ToLower(page), "</script"); n != 2 {
				t.Errorf("the page closes %d scripts, want 2", n)
			}
			if n := strings.Count(strings.ToLower(page), "</style"); n != 1 {
				t.Errorf("the page closes %d style sheets, want 1", n)
			}
			if !strings.Contains(page, "<title>Bowl &lt;&amp;&gt; &#34;test&#34;</title>") {
				t.Error("the title is not escaped in <title>")
			}
			if n := strings.Count(page, `src="data:image/png;base64,iVBORw0KGgo`); n != 2 {
				t.Errorf("the page embeds %d PNG pictures, want 2", n)
			}
			if got := decodeData(t, page).Title; got != "Bowl <&> \"test\"" {
				t.Errorf("the data's title is %q", got)
			}
		})
	}
}

func TestDataRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *report.Surface
	}{
		{"2-D with NaN", bowl(21, 0, 5, 440)},
		{"1-D with NaN", curve(9, 0, 8)},
		{"infinities", &report.Surface{X: []float64{0, 1, 2, 3}, Values: map[string][]float64{
			"loss": {math.Inf(1), 1e-300, -2.5e21, math.Inf(-1)},
		}}},
		{"2-D, 3 x 2", &report.Surface{X: []float64{-1, 0, 1}, Y: []float64{-0.5, 0.5}, Values: map[string][]float64{
			"b": {1, 2, 3, 4, 5, 6}, "loss": {6, 5, 4, 3, 2, math.NaN()}, "a": {0, 0, 0, 0, 0, 0},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decodeData(t, write(t, &report.Report{Surface: tc.s}))
			if d.Surface == nil {
				t.Fatal("the data has no surface")
			}
			if !equal(d.Surface.X, tc.s.X) || !equal(d.Surface.Y, tc.s.Y) {
				t.Errorf("coordinates %v, %v; want %v, %v", d.Surface.X, d.Surface.Y, tc.s.X, tc.s.Y)
			}
			if len(d.Surface.Channels) != len(tc.s.Values) {
				t.Fatalf("%d channels, want %d", len(d.Surface.Channels), len(tc.s.Values))
			}
			for i, c := range d.Surface.Channels {
				if i == 0 && c.Name != "loss" {
					t.Errorf("the first channel is %q, want loss", c.Name)
				}
				if i > 1 && c.Name < d.Surface.Channels[i-1].Name {
					t.Errorf("channel %q follows %q", c.Name, d.Surface.Channels[i-1].Name)
				}
				want := tc.s.Values[c.Name]
				if len(c.Values) != len(want) {
					t.Fatalf("channel %q has %d values, want %d", c.Name, len(c.Values), len(want))
				}
				for k, v := range c.Values {
					w := want[k]
					switch {
					case math.IsNaN(w) || math.IsInf(w, 0):
						if v != nil {
							t.Errorf("%s[%d] = %v, want null for %v", c.Name, k, *v, w)
						}
					case v == nil:
						t.Errorf("%s[%d] = null, want %v", c.Name, k, w)
					case *v != w:
						t.Errorf("%s[%d] = %v, want %v", c.Name, k, *v, w)
					}
				}
			}
		})
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPageText(t *testing.T) {
	page := write(t, sampleReport(t, "Bowl", bowl(51, 3, 700, 1300)))
	for _, want := range []string{
		"<li>Minimum loss 0.0012 at (x, y) = (0.02, -0.01)</li>",
		"51 × 51 grid · 3 points not computed",
		`<code class="hash" title="` + strings.Repeat("0123456789abcdef", 4) + `">0123456789ab…</code>`,
		`<th scope="row">x</th><td>-1 to 1, 51 points</td>`,
		`<th scope="row">seed</th><td>42</td>`,
		`<th colspan="2" scope="colgroup">Identity</th>`,
		`<figcaption><strong>Heat map</strong> loss, rows are y</figcaption>`,
		`data-kind="3d"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if i, j := strings.Index(page, ">Identity<"), strings.Index(page, ">Grid<"); i < 0 || j < i {
		t.Error("the manifest does not show Identity before Grid")
	}
	if page := write(t, sampleReport(t, "Curve", curve(41, 7))); !strings.Contains(page, `data-kind="1d"`) {
		t.Error("a 1-D curve is not shown as a chart")
	}
	if page := write(t, &report.Report{}); strings.Contains(page, `id="view"`) || !strings.Contains(page, "<title>lsweep report</title>") {
		t.Error("an empty report shows a surface, or has no default title")
	}
}

func TestWriteErrors(t *testing.T) {
	good := func() *report.Surface { return bowl(5) }
	for _, tc := range []struct {
		name string
		r    *report.Report
		want string
	}{
		{"nil report", nil, "nil Report"},
		{"no x", &report.Report{Surface: &report.Surface{Values: map[string][]float64{"loss": {}}}}, "no x coordinates"},
		{"no channel", &report.Report{Surface: &report.Surface{X: []float64{0, 1}}}, "no channels"},
		{"short channel", &report.Report{Surface: func() *report.Surface {
			s := good()
			s.Values["acc"] = s.Values["acc"][1:]
			return s
		}()}, `channel "acc" has 24 values, the 5 × 5 grid 25 points`},
		{"NaN coordinate", &report.Report{Surface: func() *report.Surface {
			s := good()
			s.Y[2] = math.NaN()
			return s
		}()}, "y coordinate 2 is NaN"},
		{"not a PNG", &report.Report{Images: []report.Image{{Name: "a", PNG: []byte("GIF89a")}}}, `image 0 "a" is not a PNG`},
		{"manifest NaN", &report.Report{Manifest: map[string]any{"seed": math.NaN()}}, "encoding the manifest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := report.Write(&b, tc.r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write: %v, want an error with %q", err, tc.want)
			}
			if b.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", b.Len())
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := sampleReport(t, "Bowl", bowl(11))
	if err := report.WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := write(t, r); string(got) != want {
		t.Error("WriteFile wrote another page than Write")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the file's mode is %v (%v), want 0644", fi.Mode(), err)
	}

	// A failure leaves the old file and no temporary file behind.
	err = report.WriteFile(path, &report.Report{Images: []report.Image{{PNG: []byte("no")}}})
	if err == nil {
		t.Fatal("WriteFile wrote a report with a picture that is no PNG")
	}
	if got2, _ := os.ReadFile(path); !bytes.Equal(got2, got) {
		t.Error("a failed WriteFile changed the file")
	}
	if err := report.WriteFile(filepath.Join(dir, "missing", "r.html"), r); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteFile into a missing folder: %v, want an error matching fs.ErrNotExist", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the folder holds %v, want only report.html", names)
	}
}
