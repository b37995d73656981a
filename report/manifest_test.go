package report

import (
	"reflect"
	"strings"
	"testing"
)

func TestManifestSections(t *testing.T) {
	type axis struct {
		Min, Max float64
		N        int
	}
	hash := strings.Repeat("ab12", 16)
	m := map[string]any{
		"version":  1,
		"channels": []string{"loss", "acc"},
		"info": map[string]any{
			"versions": map[string]any{"go": "go1.26.8", "ort": "1.24.1"},
			"layers":   []any{map[string]any{"name": "conv1"}, map[string]any{"name": "fc"}},
			"empty":    []int{},
			"host":     nil,
		},
		"grid":     map[string]any{"x": axis{-1, 1, 51}, "y": axis{0.5, 0.5, 1}},
		"identity": map[string]any{"seed": uint64(1) << 60, "model_sha256": hash, "data": "sha256:" + hash, "short": "abc123", "norm": "filter"},
		"z_extra":  map[string]any{"big": 1.5e300},
	}
	got, err := manifestSections(m)
	if err != nil {
		t.Fatal(err)
	}
	want := []Section{
		{"Identity", []Row{
			{"data", "sha256:ab12ab12ab12…", "sha256:" + hash},
			{"model_sha256", "ab12ab12ab12…", hash},
			{"norm", "filter", ""},
			{"seed", "1152921504606846976", ""},
			{"short", "abc123", ""},
		}},
		{"Grid", []Row{
			{"x", "-1 to 1, 51 points", ""},
			{"y", "0.5, 1 point", ""},
		}},
		{"General", []Row{
			{"channels", "loss, acc", ""},
			{"version", "1", ""},
		}},
		{"Info", []Row{
			{"empty", "none", ""},
			{"host", "none", ""},
			{"layers[0].name", "conv1", ""},
			{"layers[1].name", "fc", ""},
			{"versions.go", "go1.26.8", ""},
			{"versions.ort", "1.24.1", ""},
		}},
		{"Z extra", []Row{
			{"big", "1.5e+300", ""},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}

	if got, err := manifestSections(nil); err != nil || got != nil {
		t.Errorf("manifestSections(nil) = %v, %v; want nothing", got, err)
	}
	if _, err := manifestSections(map[string]any{"f": func() {}}); err == nil {
		t.Error("a manifest that is no JSON gives no error")
	}
}
