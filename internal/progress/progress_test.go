package progress_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsweep/lsweep/internal/progress"
)

// clock is a fake clock that moves only when told.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func TestPlain(t *testing.T) {
	cases := []struct {
		name        string
		total, done int // at Start
		steps       int // points computed, one a second
		want        []string
	}{
		{"fresh", 100, 0, 100, []string{
			"sweep: 100 points to compute",
			"sweep: 10/100 points (10%), 1.00 points/s, ETA 1:30",
			"sweep: 20/100 points (20%), 1.00 points/s, ETA 1:20",
			"sweep: 30/100 points (30%), 1.00 points/s, ETA 1:10",
			"sweep: 40/100 points (40%), 1.00 points/s, ETA 1:00",
			"sweep: 50/100 points (50%), 1.00 points/s, ETA 50s",
			"sweep: 60/100 points (60%), 1.00 points/s, ETA 40s",
			"sweep: 70/100 points (70%), 1.00 points/s, ETA 30s",
			"sweep: 80/100 points (80%), 1.00 points/s, ETA 20s",
			"sweep: 90/100 points (90%), 1.00 points/s, ETA 10s",
			"sweep: 100/100 points (100%), 1.00 points/s, ETA 0s",
			"sweep: 100/100 points in 1:40, 1.00 points/s",
		}},
		// A resumed run's rate counts only the points computed since Start.
		{"resumed", 5000, 4000, 25, []string{
			"sweep: 4000/5000 points done before, 1000 to compute",
			"sweep: 4010/5000 points (80%), 1.00 points/s, ETA 16:30",
			"sweep: 4020/5000 points (80%), 1.00 points/s, ETA 16:20",
			"sweep: stopped at 4025/5000 points (80%) after 25s, 1.00 points/s",
		}},
		{"nothing to do", 9, 9, 0, []string{
			"sweep: 9/9 points done before, none to compute",
			"sweep: 9/9 points in 0s, - points/s",
		}},
		{"long", 100000, 0, 25, []string{
			"sweep: 100000 points to compute",
			"sweep: 10/100000 points (0%), 1.00 points/s, ETA 27:46:30",
			"sweep: 20/100000 points (0%), 1.00 points/s, ETA 27:46:20",
			"sweep: stopped at 25/100000 points (0%) after 25s, 1.00 points/s",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			clk := newClock()
			r := progress.New(&b, "sweep")
			r.Now = clk.now
			if r.Interval != 10*time.Second {
				t.Errorf("Interval %v, want 10s", r.Interval)
			}
			r.Start(c.total, c.done)
			for k := 1; k <= c.steps; k++ {
				clk.advance(time.Second)
				r.Step(c.done + k)
			}
			r.Finish()
			r.Finish()
			got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestSetTotal: an adaptive run lowers its total as it fills cells; the
// time left and the last line count the points it computes.
func TestSetTotal(t *testing.T) {
	var b strings.Builder
	clk := newClock()
	r := progress.New(&b, "points")
	r.Now = clk.now
	r.Start(100, 0)
	for k := 1; k <= 40; k++ {
		clk.advance(time.Second)
		if k == 15 {
			r.SetTotal(50)
		}
		r.Step(k)
	}
	r.SetTotal(40)
	r.Finish()
	want := []string{
		"points: 100 points to compute",
		"points: 10/100 points (10%), 1.00 points/s, ETA 1:30",
		"points: 20/50 points (40%), 1.00 points/s, ETA 30s",
		"points: 30/50 points (60%), 1.00 points/s, ETA 20s",
		"points: 40/50 points (80%), 1.00 points/s, ETA 10s",
		"points: 40/40 points in 40s, 1.00 points/s",
	}
	if got := strings.TrimSuffix(b.String(), "\n"); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

// TestPlainInterval checks that a line comes at the first Step once
// Interval has passed, and no more often.
func TestPlainInterval(t *testing.T) {
	var b strings.Builder
	clk := newClock()
	r := progress.New(&b, "x")
	r.Now = clk.now
	r.Interval = 3 * time.Second
	r.Start(1000, 0)
	for k := 1; k <= 100; k++ {
		clk.advance(700 * time.Millisecond)
		r.Step(k)
	}
	r.Finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	// 70 s at one line per 3.5 s (5 steps), plus the first and last.
	if len(lines) != 20+2 {
		t.Errorf("%d lines, want 22:\n%s", len(lines), b.String())
	}
	if lines[1] != "x: 5/1000 points (0%), 1.43 points/s, ETA 11:37" {
		t.Errorf("line 1 = %q", lines[1])
	}
}

func TestTerminal(t *testing.T) {
	var b strings.Builder
	clk := newClock()
	r := progress.New(&b, "sweep")
	r.Now = clk.now
	progress.SetTerminal(r, 72)
	r.Start(200, 50)
	for k := 1; k <= 150; k++ {
		clk.advance(20 * time.Millisecond) // 50 points a second
		r.Step(50 + k)
	}
	r.Finish()
	out := b.String()
	if !strings.HasPrefix(out, "\r") || !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("want one line rewritten with \\r, ended by \\n; got %q", out)
	}
	draws := strings.Split(strings.TrimSuffix(out, "\n"), "\r")[1:]
	// 3 s of work: at most 10 redraws a second, plus Start and Finish.
	if len(draws) > 3*10+2 || len(draws) < 20 {
		t.Errorf("%d redraws in 3 s", len(draws))
	}
	for _, d := range draws {
		if len(d) > 71 {
			t.Errorf("line of %d characters on a terminal of 72: %q", len(d), d)
		}
	}
	first, mid, last := draws[0], draws[len(draws)/2], draws[len(draws)-1]
	if want := "sweep   50/200 [=====>                  ]  25%  -/s  ETA ?"; first != want {
		t.Errorf("first line\n%q\nwant\n%q", first, want)
	}
	if !strings.Contains(mid, "50.0/s  ETA ") || !strings.Contains(mid, "=>") {
		t.Errorf("middle line %q", mid)
	}
	if want := "sweep  200/200 [========================] 100%  50.0/s  in 3s"; strings.TrimRight(last, " ") != want {
		t.Errorf("last line\n%q\nwant\n%q", last, want)
	}
}

// TestTerminalClears checks that a shorter line blanks out the longer one
// it replaces.
func TestTerminalClears(t *testing.T) {
	var b strings.Builder
	clk := newClock()
	r := progress.New(&b, "s")
	r.Now = clk.now
	progress.SetTerminal(r, 30) // too narrow for a bar
	r.Start(10, 0)
	clk.advance(time.Second)
	r.Step(1) // "1.00/s ETA 9s"
	clk.advance(100 * time.Second)
	r.Step(2) // "0.02/s ETA 6:44"
	r.Finish()
	draws := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\r")[1:]
	for i := 1; i < len(draws); i++ {
		if len(draws[i]) < len(draws[i-1]) {
			t.Errorf("draw %d %q is shorter than %q before it", i, draws[i], draws[i-1])
		}
	}
	if strings.Contains(b.String(), "[") {
		t.Errorf("a bar on a narrow terminal: %q", b.String())
	}
}

func TestQuiet(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var b strings.Builder
		r := progress.New(&b, "sweep")
		if tty {
			progress.SetTerminal(r, 80)
		}
		r.Quiet = true
		r.Start(10, 0)
		for k := 1; k <= 10; k++ {
			r.Step(k)
		}
		r.Finish()
		if b.Len() != 0 {
			t.Errorf("quiet reporter wrote %q", b.String())
		}
	}
}

// TestFile checks that a file that is not a terminal gets plain lines.
func TestFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := progress.New(f, "sweep")
	r.Start(3, 0)
	r.Step(1)
	r.Finish()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "\r") || !strings.HasPrefix(s, "sweep: 3 points to compute\nsweep: stopped at 1/3 points (33%) after ") {
		t.Errorf("log holds %q", s)
	}
}

func TestFormatDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{400 * time.Millisecond, "0s"},
		{500 * time.Millisecond, "1s"},
		{42 * time.Second, "42s"},
		{59*time.Second + 400*time.Millisecond, "59s"},
		{59*time.Second + 600*time.Millisecond, "1:00"},
		{60 * time.Second, "1:00"},
		{3*time.Minute + 7*time.Second, "3:07"},
		{59*time.Minute + 59*time.Second, "59:59"},
		{time.Hour, "1:00:00"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1:02:03"},
		{100*time.Hour + 5*time.Second, "100:00:05"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			if got := progress.FormatDuration(c.d); got != c.want {
				t.Errorf("FormatDuration(%v) = %q, want %q", c.d, got, c.want)
			}
		})
	}
}
