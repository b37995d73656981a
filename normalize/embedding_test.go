package normalize_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/normalize"
)

// TestEmbedding checks the tables of token models: left out of random
// directions by default whatever Ignore says, drawn after the weights and
// normalised one row at a time with Embeddings, moved by Difference.
func TestEmbedding(t *testing.T) {
	vals := func(n int, c float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = c * float32(i%5+1)
		}
		return v
	}
	params := []normalize.Param{
		{Name: "fc", Shape: []int64{3, 4}, Kind: normalize.Weight, FilterAxis: 1, Values: vals(12, 0.5)},
		{Name: "ln.weight", Shape: []int64{4}, Kind: normalize.Trainable, Values: vals(4, 1)},
		{Name: "tok", Shape: []int64{5, 4}, Kind: normalize.Embedding, FilterAxis: 0, Values: vals(20, 0.1)},
		{Name: "pos", Shape: []int64{1, 3, 4}, Kind: normalize.Embedding, FilterAxis: 1, Values: vals(12, 0.2)},
	}
	for _, o := range []normalize.Options{{}, {Ignore: normalize.IgnoreNone}} {
		d, err := normalize.Random(params, rand.New(rand.NewPCG(1, 2)), o)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"fc"}
		if o.Ignore == normalize.IgnoreNone {
			want = append(want, "ln.weight")
		}
		if !slices.Equal(d.Names, want) {
			t.Errorf("ignore %q: direction moves %v, want %v", o.Ignore, d.Names, want)
		}
	}
	plain, _ := normalize.Random(params, rand.New(rand.NewPCG(1, 2)), normalize.Options{})
	d, err := normalize.Random(params, rand.New(rand.NewPCG(1, 2)), normalize.Options{Embeddings: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Names, []string{"fc", "tok", "pos"}) {
		t.Fatalf("with embeddings the direction moves %v", d.Names)
	}
	if !slices.Equal(d.Values["fc"], plain.Values["fc"]) {
		t.Error("including the embeddings changed the weight's draw")
	}
	for _, p := range params[2:] {
		v := d.Values[p.Name]
		for r := 0; r < len(v)/4; r++ {
			dn, tn := rowNorm(v[4*r:4*r+4]), rowNorm(p.Values[4*r:4*r+4])
			if math.Abs(dn-tn) > 1e-7*tn { // float32 values
				t.Errorf("%s row %d: norm %g, the model's row %g", p.Name, r, dn, tn)
			}
		}
	}
	if !(normalize.Options{Embeddings: true}).Draws(normalize.Embedding) || (normalize.Options{}).Draws(normalize.Embedding) || !(normalize.Options{}).Draws(normalize.Weight) {
		t.Error("Draws does not follow Options.Embeddings")
	}
	to := slices.Clone(params)
	to[2].Values = vals(20, 0.3)
	diff, err := normalize.Difference(params, to, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := diff.Values["tok"]; !ok {
		t.Error("Difference leaves the embedding table out")
	}
	var o normalize.Options
	if err := o.ParseInclude([]string{"embeddings"}); err != nil || !o.Embeddings {
		t.Errorf("ParseInclude(embeddings): %v, %+v", err, o)
	}
	if err := o.ParseInclude([]string{"biases"}); err == nil || !strings.Contains(err.Error(), "embeddings") {
		t.Errorf("ParseInclude(biases): %v", err)
	}
}

func rowNorm(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}
