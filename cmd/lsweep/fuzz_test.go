package main

import (
	"math"
	"testing"
)

// FuzzParseAt checks the --at parser: one or two finite numbers, or an
// error.
func FuzzParseAt(f *testing.F) {
	for _, s := range []string{"0", "0.25,-0.5", "1,2,3", "nan", "inf,0", "", ",", "1e400", " 1 , 2 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := parseAt(s)
		if err != nil {
			return
		}
		if len(at) < 1 || len(at) > 2 {
			t.Fatalf("%q: %v", s, at)
		}
		for _, v := range at {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q: accepted %v", s, at)
			}
		}
	})
}
