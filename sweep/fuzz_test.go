package sweep

import "testing"

// FuzzParseAxis checks that the grid parser refuses or accepts any text
// without panicking, and that an accepted axis is usable.
func FuzzParseAxis(f *testing.F) {
	for _, s := range []string{"-1:1:51", "0:1:1", "-0.5:1.5:21", "1:-1:3", "a:b:c", "1e308:-1e308:3", "0:0:2", "-1:1:1e9", ":::", "-1:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAxis(s)
		if err != nil {
			return
		}
		if a.N < 1 || a.N > MaxAxisPoints || a.N > 1 && !(a.Min < a.Max) {
			t.Fatalf("%q: accepted %+v", s, a)
		}
		g := Grid{X: a}
		for i := 0; i < min(g.Len(), 3); i++ {
			g.Coord(i)
		}
	})
}

// FuzzManifest checks the manifest reader on arbitrary bytes.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"version":1,"identity":{"seed":1},"grid":{"x":{"min":-1,"max":1,"n":3}},"channels":["loss"]}`))
	f.Add([]byte(`{"version":1,"grid":{"x":{"min":-1,"max":1,"n":-3}},"channels":[""]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeManifest("fuzz.json", b)
		if err != nil {
			return
		}
		if err := m.check(); err == nil {
			_ = m.Grid.Len() // must not panic on a checked manifest
		}
	})
}
