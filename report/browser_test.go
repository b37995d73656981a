//go:build unix

package report_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsweep/lsweep/report"
)

var keep = flag.String("keep", "", "folder to keep the browser test's pages, screenshots and DOMs in, to look at")

// chromiumFlags start headless Chromium for a test: no sandbox (tests run
// as root in CI), no network, a fresh profile, and WebGL drawn by
// SwiftShader on the CPU.
var chromiumFlags = []string{
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--disable-extensions",
	"--disable-dev-shm-usage",
	"--use-angle=swiftshader",
	"--enable-unsafe-swiftshader",
	"--enable-logging=stderr",
	"--v=0",
	"--hide-scrollbars",
	"--force-device-scale-factor=1",
}

// chromium returns the path of a Chromium to test with: $LSWEEP_CHROMIUM,
// or chromium, chromium-browser or google-chrome on $PATH. Without one the
// test skips, unless $CI is set, when it fails.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LSWEEP_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium to test the page in: install Debian's chromium package (apt-get install chromium) or set LSWEEP_CHROMIUM"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browserRun is what Chromium made of a page.
type browserRun struct {
	dom    string
	shot   image.Image
	stderr string
}

// canvas returns where the 3-D view's canvas lies in the screenshot.
func (b *browserRun) canvas(t *testing.T) image.Rectangle {
	t.Helper()
	rect, _ := b.attr("data-lsweep-canvas")
	var x, y, w, h int
	if _, err := fmt.Sscanf(rect, "%d,%d,%d,%d", &x, &y, &w, &h); err != nil {
		t.Fatalf("data-lsweep-canvas=%q: %v", rect, err)
	}
	return image.Rect(x, y, x+w, y+h)
}

// count returns the pixels of the canvas in the screenshot whose 8-bit
// red, green and blue satisfy keep.
func (b *browserRun) count(t *testing.T, keep func(r, g, bl uint32) bool) int {
	n := 0
	r := b.canvas(t)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := b.shot.At(x, y).RGBA()
			if keep(cr>>8, cg>>8, cb>>8) {
				n++
			}
		}
	}
	return n
}

// attr returns the body's attribute name in the DOM.
func (b *browserRun) attr(name string) (string, bool) {
	m := regexp.MustCompile(`<body[^>]*\s` + regexp.QuoteMeta(name) + `="([^"]*)"`).FindStringSubmatch(b.dom)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

func (b *browserRun) intAttr(t *testing.T, name string) int {
	t.Helper()
	s, ok := b.attr(name)
	if !ok {
		t.Fatalf("the page set no %s", name)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q is not a number", name, s)
	}
	return n
}

// consoleRE matches a console message in Chromium's log.
var consoleRE = regexp.MustCompile(`(?m)^.*:CONSOLE[:(]\d*\)?\]? ?(.*)$`)

// consoleMessages returns what the page wrote to the console, less
// SwiftShader's notes on performance, which reading pixels back causes.
func (b *browserRun) consoleMessages() []string {
	var out []string
	for _, m := range consoleRE.FindAllStringSubmatch(b.stderr, -1) {
		if strings.Contains(m[1], "GL Driver Message (OpenGL, Performance") {
			continue
		}
		out = append(out, m[1])
	}
	return out
}

// open writes r to a temporary folder and has Chromium load it with the
// fragment #lsweep-selftest, returning its DOM once loaded, a screenshot of
// a width x height window and its log.
//
// A script in inject is added to the end of the page's body.
func open(t *testing.T, name string, r *report.Report, width, height int, inject string, extra ...string) *browserRun {
	t.Helper()
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := report.Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	if inject != "" {
		i := strings.LastIndex(text, "</body>")
		text = text[:i] + "<script>" + inject + "</script>\n" + text[i:]
	}
	err := os.WriteFile(page, []byte(text), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	args := append(append([]string{}, chromiumFlags...), extra...)
	args = append(args,
		"--user-data-dir="+filepath.Join(dir, "profile"),
		fmt.Sprintf("--window-size=%d,%d", width, height),
		"--screenshot="+shot,
		"--virtual-time-budget=5000",
		"--dump-dom",
		"file://"+page+"#lsweep-selftest",
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Chromium starts helper processes: end them all with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	t.Logf("%s: Chromium took %v", name, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, tail(stderr.String(), 3000))
	}
	run := &browserRun{dom: stdout.String(), stderr: stderr.String()}
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("Chromium took no screenshot: %v\n%s", err, tail(stderr.String(), 3000))
	}
	if run.shot, err = png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatalf("the screenshot: %v", err)
	}
	if *keep != "" {
		for file, data := range map[string][]byte{".html": nil, ".png": b, ".dom.html": stdout.Bytes(), ".log": stderr.Bytes()} {
			if data == nil {
				data, _ = os.ReadFile(page)
			}
			if err := os.WriteFile(filepath.Join(*keep, name+file), data, 0o644); err != nil {
				t.Error(err)
			}
		}
	}
	return run
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// checkClean fails the test unless the page says it is drawn without
// errors and wrote nothing to the console.
func checkClean(t *testing.T, run *browserRun, want string) {
	t.Helper()
	status, ok := run.attr("data-lsweep-status")
	if !ok {
		t.Fatalf("the page has no status\n%s", tail(run.dom, 2000))
	}
	if status != want {
		t.Errorf("the page's status is %q, want %q", status, want)
	}
	if msgs := run.consoleMessages(); len(msgs) > 0 {
		t.Errorf("the page wrote to the console:\n%s", strings.Join(msgs, "\n"))
	}
}

// colours counts the distinct colours of img in r, and the share of its
// pixels that are not white.
func colours(img image.Image, r image.Rectangle) (n int, inked float64) {
	seen := map[uint32]bool{}
	total, ink := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			c := cr>>8<<16 | cg>>8<<8 | cb>>8
			seen[c] = true
			total++
			if c != 0xffffff {
				ink++
			}
		}
	}
	return len(seen), float64(ink) / float64(max(total, 1))
}

func TestBrowser(t *testing.T) {
	t.Run("surface", func(t *testing.T) {
		t.Parallel()
		s := bowl(51, 3, 700, 701, 1300)
		run := open(t, "surface", sampleReport(t, "Loss landscape of a test bowl", s), 1280, 1100, "")
		checkClean(t, run, "ok")
		if got, want := run.intAttr(t, "data-lsweep-triangles"), 2*cells(s); got != want {
			t.Errorf("the view drew %d triangles, want %d", got, want)
		}
		if n := run.intAttr(t, "data-lsweep-colors"); n < 200 {
			t.Errorf("the view read back %d distinct colours, want a shaded surface (200 or more)", n)
		}
		if sc, _ := run.attr("data-lsweep-scale"); !strings.HasPrefix(sc, "-0.0") {
			t.Errorf("the view's scale is %q, want the loss's own range (from about -0.03)", sc)
		}
		// The canvas as the screenshot shows it.
		r := run.canvas(t)
		if !r.In(run.shot.Bounds()) || r.Dx() < 200 || r.Dy() < 200 {
			t.Fatalf("the canvas at %v is not within the %v screenshot, or too small", r, run.shot.Bounds())
		}
		n, inked := colours(run.shot, r)
		t.Logf("the canvas %v shows %d colours, %.0f%% of it not white", r, n, 100*inked)
		if n < 200 || inked < 0.15 {
			t.Errorf("the canvas shows %d colours, %.0f%% of it not white: want a drawn surface", n, 100*inked)
		}
	})
	t.Run("loss range", func(t *testing.T) {
		t.Parallel()
		s := bowl(51)
		s.LossRange = []float64{-1, 3}
		run := open(t, "range", sampleReport(t, "A fixed loss range", s), 1280, 1100, "")
		checkClean(t, run, "ok")
		if sc, _ := run.attr("data-lsweep-scale"); sc != "-1,3" {
			t.Errorf("the view's scale is %q, want the fixed range -1,3", sc)
		}
	})
	t.Run("interaction", func(t *testing.T) {
		t.Parallel()
		run := open(t, "interaction", sampleReport(t, "Rotated, zoomed, log scale, clipped", bowl(51, 3, 700)), 1280, 1100, interact3D)
		checkClean(t, run, "ok")
		if done, _ := run.attr("data-test"); done != "done" {
			t.Fatalf("the test script did not finish: %q", done)
		}
		if n := run.intAttr(t, "data-test-colors"); n < 200 {
			t.Errorf("after the interactions the view shows %d distinct colours, want 200 or more", n)
		}
		for _, want := range []string{">acc (log scale)</span>", "<div>loss = "} {
			if !strings.Contains(run.dom, want) {
				t.Errorf("after the interactions the page lacks %s", want)
			}
		}
		if !tooltipRE.MatchString(run.dom) {
			t.Error("hovering shows no tooltip")
		}
	})
	t.Run("201x201", func(t *testing.T) {
		t.Parallel()
		s := bowl(201, 20100)
		run := open(t, "large", &report.Report{Title: "201 x 201", Surface: s}, 1000, 800, "")
		checkClean(t, run, "ok")
		if got, want := run.intAttr(t, "data-lsweep-triangles"), 2*cells(s); got != want || got < 2*199*199 {
			t.Errorf("the view drew %d triangles, want %d", got, want)
		}
		if n := run.intAttr(t, "data-lsweep-colors"); n < 200 {
			t.Errorf("the view read back %d distinct colours, want 200 or more", n)
		}
	})
	t.Run("curve", func(t *testing.T) {
		t.Parallel()
		run := open(t, "curve", sampleReport(t, "Loss along a direction", curve(41, 7, 8)), 1280, 1000, "")
		checkClean(t, run, "ok")
		if n := run.intAttr(t, "data-lsweep-points"); n != 39 {
			t.Errorf("the chart drew %d points of loss, want 39", n)
		}
		if !strings.Contains(run.dom, `<path d="M`) {
			t.Error("the chart has no line")
		}
	})
	t.Run("curve interaction", func(t *testing.T) {
		t.Parallel()
		run := open(t, "curve-interaction", sampleReport(t, "Loss along a direction", curve(41, 7)), 1280, 1000, interact1D)
		checkClean(t, run, "ok")
		if done, _ := run.attr("data-test"); done != "done" {
			t.Fatalf("the test script did not finish: %q", done)
		}
		for _, want := range []string{">loss (log scale)</text>", "<div>accuracy = "} {
			if !strings.Contains(run.dom, want) {
				t.Errorf("after the interactions the page lacks %s", want)
			}
		}
		if !tooltipRE.MatchString(run.dom) {
			t.Error("hovering shows no tooltip")
		}
		if !regexp.MustCompile(`<div class="lightbox" id="lightbox"><figure><img [^>]*src="data:image/png;base64,[^>]*><figcaption>Heat map loss, rows are y</figcaption>`).MatchString(run.dom) {
			t.Error("clicking a picture does not enlarge it")
		}
	})
	t.Run("path", func(t *testing.T) {
		t.Parallel()
		r := sampleReport(t, "A training path", bowl(41))
		// Six points on the grid and one off it, which is left out.
		r.Path = &report.Path{X: []float64{-0.9, -0.6, -0.2, 0.3, 0.1, 0, 1.5}, Y: []float64{0.8, 0.3, 0.5, 0.2, 0.05, 0, 0}, Labels: []string{"ckpt_0", "", "", "", "", "final", ""}}
		run := open(t, "path", r, 1280, 1100, "")
		checkClean(t, run, "ok")
		if got := run.intAttr(t, "data-lsweep-path"); got != 6 {
			t.Errorf("the view drew %d points of the path, want 6", got)
		}
		red := run.count(t, func(r, g, b uint32) bool { return r > 180 && g < 90 && b < 90 })
		t.Logf("%d red pixels on the canvas", red)
		if red < 100 {
			t.Errorf("the canvas shows %d red pixels, want the path drawn", red)
		}
		for _, want := range []string{`class="path"`, ">ckpt_0<", ">final<"} {
			if !strings.Contains(run.dom, want) {
				t.Errorf("the view lacks %s", want)
			}
		}
	})
	t.Run("estimated", func(t *testing.T) {
		t.Parallel()
		// An adaptive run's channel: every third point of every other row
		// interpolated, and one hole, which gets no dot.
		s := bowl(31, 0)
		est := make([]float64, len(s.X)*len(s.Y))
		want := 0
		for k := range est {
			if (k/len(s.X))%2 == 0 && k%3 == 0 {
				est[k] = 1
				if k != 0 {
					want++
				}
			}
		}
		s.Values["estimated"] = est
		run := open(t, "estimated", sampleReport(t, "Interpolated points", s), 1280, 1100, "")
		checkClean(t, run, "ok")
		if got := run.intAttr(t, "data-lsweep-estimated"); got != want {
			t.Errorf("the view dotted %d interpolated points, want %d", got, want)
		}
		grey := run.count(t, func(r, g, b uint32) bool { return r > 100 && r < 160 && max(r, g, b)-min(r, g, b) < 8 })
		t.Logf("%d grey pixels on the canvas", grey)
		if grey < 200 {
			t.Errorf("the canvas shows %d grey pixels, want the interpolated points dotted", grey)
		}
	})
	t.Run("no WebGL", func(t *testing.T) {
		t.Parallel()
		run := open(t, "nowebgl", sampleReport(t, "Without WebGL", bowl(31, 5)), 1280, 1000, "", "--disable-webgl", "--disable-3d-apis")
		checkClean(t, run, "no-webgl")
		if !strings.Contains(run.dom, "cannot show the interactive 3-D view: WebGL is unavailable") {
			t.Error("the page does not say that it needs WebGL")
		}
	})
}

// tooltipRE matches a tooltip shown (not hidden) with a point's values.
var tooltipRE = regexp.MustCompile(`<div class="tooltip" style="[^"]*"><b>x = `)

// interactSetup is the start of the scripts that use the page as a person
// would: set(id, property, value) changes a control, pe(type, id, x, y)
// sends a pointer event to the view at (x, y) in its own pixels.
const interactSetup = `
var stage = document.querySelector('.stage'), r = stage.getBoundingClientRect();
function pe(type, id, x, y) {
  stage.dispatchEvent(new PointerEvent(type, {pointerId: id, pointerType: 'mouse', isPrimary: true, button: 0,
    buttons: type === 'pointerup' ? 0 : 1, clientX: r.left + x, clientY: r.top + y, bubbles: true, cancelable: true}));
}
function set(id, prop, v) {
  var e = document.getElementById(id);
  e[prop] = v;
  e.dispatchEvent(new Event('input', {bubbles: true}));
  e.dispatchEvent(new Event('change', {bubbles: true}));
}
`

// interact3D rotates and zooms the 3-D view, turns on the log scale,
// clips, changes channel and hovers over the middle of the view; in the
// next frame it counts the colours drawn and sets the body's data-test to
// "done".
const interact3D = interactSetup + `
pe('pointerdown', 7, 300, 300);
pe('pointermove', 7, 360, 320);
pe('pointermove', 7, 420, 280);
pe('pointerup', 7, 420, 280);
stage.dispatchEvent(new WheelEvent('wheel', {deltaY: 150, clientX: r.left + 300, clientY: r.top + 300, bubbles: true, cancelable: true}));
set('clip', 'value', '0.8');
set('log', 'checked', true);
set('channel', 'value', '1');
pe('pointermove', 8, r.width / 2, r.height / 2);
// Called after the page's own frame, before the frame is shown: the
// drawing buffer still holds it.
requestAnimationFrame(function () {
  var gl = stage.querySelector('canvas').getContext('webgl'), w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
  var px = new Uint8Array(w * h * 4), seen = new Set();
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
  for (var i = 0; i < px.length; i += 4) seen.add(px[i] << 16 | px[i + 1] << 8 | px[i + 2]);
  document.body.setAttribute('data-test-colors', String(seen.size));
  document.body.setAttribute('data-test', 'done');
});
`

// interact1D turns on the log scale of the chart, clips it, hovers over it
// and enlarges the second picture.
const interact1D = interactSetup + `
set('log', 'checked', true);
set('clip', 'value', '1.5');
pe('pointermove', 8, r.width / 2, r.height / 2);
document.querySelectorAll('.thumb')[1].click();
document.body.setAttribute('data-test', 'done');
`
