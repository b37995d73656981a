package sweep_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/sweep"
)

func TestParseAxis(t *testing.T) {
	good := []struct {
		in   string
		want sweep.Axis
	}{
		{"-1:1:51", sweep.Axis{Min: -1, Max: 1, N: 51}},
		{"0:1:2", sweep.Axis{Min: 0, Max: 1, N: 2}},
		{"0.5:0.5:1", sweep.Axis{Min: 0.5, Max: 0.5, N: 1}},
		{"3:-3:1", sweep.Axis{Min: 3, Max: 3, N: 1}},
		{"-1e-3:2.5e2:1000000", sweep.Axis{Min: -1e-3, Max: 250, N: 1_000_000}},
		{" -1 : 1 : 3 ", sweep.Axis{Min: -1, Max: 1, N: 3}},
	}
	for _, c := range good {
		t.Run(c.in, func(t *testing.T) {
			a, err := sweep.ParseAxis(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if a != c.want {
				t.Fatalf("got %+v, want %+v", a, c.want)
			}
			b, err := sweep.ParseAxis(a.String())
			if err != nil || b != a {
				t.Fatalf("String %q parses to %+v, %v", a.String(), b, err)
			}
		})
	}
	bad := []struct {
		in, msg string
	}{
		{"a:b:c", `MIN "a" is not a number`},
		{"0:b:3", `MAX "b" is not a number`},
		{"0:1:c", `N "c" is not a whole number`},
		{"0:1:2.5", `N "2.5" is not a whole number`},
		{"", "want MIN:MAX:N"},
		{"0:1", "want MIN:MAX:N"},
		{"0:1:2:3", "want MIN:MAX:N"},
		{":1:3", "MIN is missing"},
		{"0::3", "MAX is missing"},
		{"0:1:", "N is missing"},
		{"1:1:3", "MIN 1 is not less than MAX 1"},
		{"1:-1:3", "MIN 1 is not less than MAX -1"},
		{"0:1:0", "N 0 is not at least 1"},
		{"0:1:-4", "N -4 is not at least 1"},
		{"0:1:1000001", "N 1000001 is more than 1000000"},
		{"0:1:99999999999999999999", "more than 1000000"},
		{"NaN:1:3", "not finite"},
		{"0:nan:3", "not finite"},
		{"-Inf:1:3", "not finite"},
		{"0:+inf:3", "not finite"},
		{"0:1e400:3", "not finite"},
		{"-1e308:1e308:3", "overflows"},
	}
	for _, c := range bad {
		t.Run(c.in, func(t *testing.T) {
			_, err := sweep.ParseAxis(c.in)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "sweep: ") || !strings.Contains(msg, `"`+c.in+`"`) || !strings.Contains(msg, c.msg) {
				t.Fatalf("error %q, want the text %q and %q", msg, c.in, c.msg)
			}
		})
	}
}

func TestCoords(t *testing.T) {
	for _, s := range []string{"-1:1:51", "0.1:0.7:7", "-0.3:0.9:13", "1e-9:3e-9:3", "-1:1:2", "0.1:0.3:1000", "2:2:1"} {
		t.Run(s, func(t *testing.T) {
			a := axis(t, s)
			c := a.Coords()
			if len(c) != a.N {
				t.Fatalf("%d coordinates, want %d", len(c), a.N)
			}
			if c[0] != a.Min || (a.N > 1 && c[a.N-1] != a.Max) {
				t.Fatalf("ends %v, %v, want exactly %v, %v", c[0], c[a.N-1], a.Min, a.Max)
			}
			step := (a.Max - a.Min) / float64(a.N-1)
			for i := 1; i < len(c); i++ {
				if !(c[i] > c[i-1]) || math.Abs(c[i]-c[i-1]-step) > 1e-12*math.Abs(step)*float64(a.N) {
					t.Fatalf("c[%d]-c[%d] = %v, want %v", i, i-1, c[i]-c[i-1], step)
				}
				if a.Coord(i) != c[i] {
					t.Fatalf("Coord(%d) = %v, Coords()[%d] = %v", i, a.Coord(i), i, c[i])
				}
			}
		})
	}
	// A symmetric odd axis has 0 exactly in the middle.
	if c := axis(t, "-1:1:51").Coords(); c[25] != 0 {
		t.Errorf("middle of -1:1:51 is %v, want 0", c[25])
	}
}

func TestGridOrientation(t *testing.T) {
	// 3 columns (x), 4 rows (y).
	gr := grid2(t, "0:2:3", "10:13:4")
	if gr.Len() != 12 || !gr.Is2D() || !slices.Equal(gr.Shape(), []int{4, 3}) {
		t.Fatalf("Len %d Is2D %v Shape %v, want 12 true [4 3]", gr.Len(), gr.Is2D(), gr.Shape())
	}
	for iy := range 4 {
		for ix := range 3 {
			x, y := gr.Coord(iy*3 + ix)
			if x != float64(ix) || y != float64(10+iy) {
				t.Errorf("Coord(%d*3+%d) = (%v, %v), want (%v, %v)", iy, ix, x, y, ix, 10+iy)
			}
		}
	}
	line := grid1(t, "0:4:5")
	if line.Len() != 5 || line.Is2D() || !slices.Equal(line.Shape(), []int{5}) {
		t.Fatalf("1-D: Len %d Is2D %v Shape %v, want 5 false [5]", line.Len(), line.Is2D(), line.Shape())
	}
	if x, y := line.Coord(3); x != 3 || y != 0 {
		t.Errorf("1-D Coord(3) = (%v, %v), want (3, 0)", x, y)
	}
}

func TestGridJSON(t *testing.T) {
	for _, gr := range []sweep.Grid{grid2(t, "-1:1:51", "-0.5:0.5:11"), grid1(t, "-0.1:0.2:7")} {
		b, err := json.Marshal(gr)
		if err != nil {
			t.Fatal(err)
		}
		var back sweep.Grid
		if err := json.Unmarshal(b, &back); err != nil || back != gr {
			t.Fatalf("%s: got %+v, %v", b, back, err)
		}
		t.Logf("%s", b)
	}
}
