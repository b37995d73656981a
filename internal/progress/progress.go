package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// DefaultInterval is the Interval that New sets: the time between two
// lines of a Reporter that does not write to a terminal.
const DefaultInterval = 10 * time.Second

// minRedraw is the shortest time between two redraws of the bar.
const minRedraw = 100 * time.Millisecond

// defaultWidth is the width of a terminal whose size is unknown.
const defaultWidth = 80

// Reporter reports progress to a writer. On a terminal it draws one line,
// "label  123/2601 [=====>     ]   4%  12.3/s  ETA 3:25", rewritten in place
// (with a carriage return) at most ten times a second, and ends it with a
// newline at Finish. Elsewhere it writes a line at Start, a line every
// Interval, at the first Step after it has passed, and a line at Finish:
//
//	label: 2601 points to compute
//	label: 123/2601 points (4%), 12.3 points/s, ETA 3:25
//	label: 2601/2601 points in 3:33, 12.2 points/s
//
// A Reporter is safe for use from several goroutines.
type Reporter struct {
	// Interval is the time between the lines written where w is not a
	// terminal; New sets DefaultInterval, and zero or less means that.
	Interval time.Duration
	// Quiet reporters write nothing.
	Quiet bool
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	w        io.Writer
	label    string
	term     bool
	width    int
	total    int
	first    int // points done at Start
	done     int
	start    time.Time
	last     time.Time // time of the last line or redraw
	lastLen  int       // length of the bar line last drawn
	started  bool
	finished bool
}

// New returns a Reporter that writes to w, each line starting with label.
// It draws a bar if w is an *os.File that is a terminal, and writes plain
// lines otherwise.
func New(w io.Writer, label string) *Reporter {
	r := &Reporter{Interval: DefaultInterval, w: w, label: label, width: defaultWidth}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.term = true
		if wd, _, err := term.GetSize(int(f.Fd())); err == nil && wd > 0 {
			r.width = wd
		}
	}
	return r
}

func (r *Reporter) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Start begins a report of total points, of which done are done already.
func (r *Reporter) Start(total, done int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total, r.first, r.done = total, done, done
	r.start = r.now()
	r.last = r.start
	r.started, r.finished = true, false
	if r.Quiet {
		return
	}
	if r.term {
		r.draw()
		return
	}
	switch {
	case done == 0:
		r.printf("%d points to compute", total)
	case done >= total:
		r.printf("%d/%d points done before, none to compute", done, total)
	default:
		r.printf("%d/%d points done before, %d to compute", done, total, total-done)
	}
}

// Step reports that done points of the total are done.
func (r *Reporter) Step(done int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = done
	if r.Quiet || !r.started || r.finished {
		return
	}
	now := r.now()
	if r.term {
		if now.Sub(r.last) >= minRedraw {
			r.last = now
			r.draw()
		}
		return
	}
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	if now.Sub(r.last) >= interval {
		r.last = now
		rate, eta := r.rate(now)
		r.printf("%d/%d points (%s), %s points/s, ETA %s", done, r.total, r.percent(), rate, eta)
	}
}

// SetTotal changes the number of points to do, as an adaptive run learns
// that it needs fewer than it said at Start.
func (r *Reporter) SetTotal(total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total = total
	if r.term && !r.Quiet && r.started && !r.finished {
		r.draw()
	}
}

// Finish ends the report: it draws the bar a last time and ends its line,
// or writes a last plain line. Calls after the first do nothing.
func (r *Reporter) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Quiet || !r.started || r.finished {
		r.finished = true
		return
	}
	r.finished = true
	now := r.now()
	if r.term {
		r.draw()
		io.WriteString(r.w, "\n")
		return
	}
	rate, _ := r.rate(now)
	elapsed := FormatDuration(now.Sub(r.start))
	if r.done >= r.total {
		r.printf("%d/%d points in %s, %s points/s", r.done, r.total, elapsed, rate)
	} else {
		r.printf("stopped at %d/%d points (%s) after %s, %s points/s", r.done, r.total, r.percent(), elapsed, rate)
	}
}

// printf writes a plain line.
func (r *Reporter) printf(format string, args ...any) {
	fmt.Fprintf(r.w, "%s: %s\n", r.label, fmt.Sprintf(format, args...))
}

// percent returns the share done, rounded down, as "47%".
func (r *Reporter) percent() string {
	if r.total <= 0 {
		return "100%"
	}
	return fmt.Sprintf("%d%%", 100*min(r.done, r.total)/r.total)
}

// rate returns the points per second computed since Start and the time
// left at that rate, or "-" and "?" before the first point.
func (r *Reporter) rate(now time.Time) (rate, eta string) {
	n := r.done - r.first
	secs := now.Sub(r.start).Seconds()
	if n <= 0 || secs <= 0 {
		return "-", "?"
	}
	pps := float64(n) / secs
	left := float64(max(r.total-r.done, 0)) / pps // seconds
	return formatRate(pps), FormatDuration(time.Duration(min(left, 1e9) * float64(time.Second)))
}

// formatRate returns a rate with three significant digits or fewer, never
// in exponent form: 1234, 123, 12.3, 1.23, 0.12.
func formatRate(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// tailWidth is the room kept on a terminal line for the longest usual
// percentage, rate and time left: " 100%  1234/s  ETA 100:00:00".
const tailWidth = 30

// draw rewrites the bar line.
func (r *Reporter) draw() {
	rate, eta := r.rate(r.now())
	digits := len(fmt.Sprint(r.total))
	line := fmt.Sprintf("%s  %*d/%d", r.label, digits, r.done, r.total)
	// The bar has the same width whatever the numbers.
	if room := r.width - 1 - len(line) - 3 - tailWidth; room >= 10 {
		line += " [" + bar(min(room, 40), r.done, r.total) + "]"
	}
	if r.finished {
		line += fmt.Sprintf(" %4s  %s/s  in %s", r.percent(), rate, FormatDuration(r.now().Sub(r.start)))
	} else {
		line += fmt.Sprintf(" %4s  %s/s  ETA %s", r.percent(), rate, eta)
	}
	if len(line) > r.width-1 {
		line = line[:max(r.width-1, 0)]
	}
	pad := ""
	if n := r.lastLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	r.lastLen = len(line)
	io.WriteString(r.w, "\r"+line+pad)
}

// bar returns a bar of width characters, done/total of it filled:
// "=====>    ".
func bar(width, done, total int) string {
	fill := width
	if total > 0 {
		fill = width * min(max(done, 0), total) / total
	}
	if fill >= width {
		return strings.Repeat("=", width)
	}
	if fill == 0 {
		return strings.Repeat(" ", width)
	}
	return strings.Repeat("=", fill-1) + ">" + strings.Repeat(" ", width-fill)
}

// FormatDuration returns d rounded to the second as "42s" under a minute,
// "m:ss" under an hour and "h:mm:ss" beyond; negative durations are 0s.
func FormatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s < 0 {
		s = 0
	}
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
