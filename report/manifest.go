package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Section is one titled part of the manifest table.
type Section struct {
	Title string
	Rows  []Row
}

// Row is one line of the manifest table. Full is the whole value when
// Value shows it shortened (a hex digest), and empty otherwise.
type Row struct {
	Key, Value, Full string
}

// sectionOrder lists the top-level manifest keys shown first, in order;
// the other objects follow by name, after the top-level values that are
// not objects.
var sectionOrder = []string{"identity", "grid"}

// generalTitle titles the section of top-level values that are not objects.
const generalTitle = "General"

// hashRE matches hex digests of 128 bits or more, with an optional
// algorithm prefix such as "sha256:".
var hashRE = regexp.MustCompile(`^([A-Za-z0-9-]+:)?[0-9a-fA-F]{32,}$`)

// hashShown is how many hex digits of a digest the table shows.
const hashShown = 12

// manifestSections returns the table of m: m is encoded as JSON and decoded
// again, so that structs read as their JSON objects, then flattened.
func manifestSections(m map[string]any) ([]Section, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("report: encoding the manifest: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("report: decoding the manifest: %w", err)
	}

	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(sectionOrder, k); i >= 0 {
			return i
		}
		if o, ok := top[k].(map[string]any); ok && !isAxis(o) {
			return len(sectionOrder) + 1
		}
		return len(sectionOrder) // the general section
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
	})

	var out []Section
	general := -1 // the index in out of the general section
	for _, k := range keys {
		obj, ok := top[k].(map[string]any)
		if !ok || isAxis(obj) {
			if general < 0 {
				out = append(out, Section{Title: generalTitle})
				general = len(out) - 1
			}
			out[general].Rows = flatten(out[general].Rows, k, top[k])
			continue
		}
		s := Section{Title: sectionTitle(k)}
		for _, sub := range sortedKeys(obj) {
			s.Rows = flatten(s.Rows, sub, obj[sub])
		}
		out = append(out, s)
	}
	return out, nil
}

// sectionTitle turns a manifest key into a title: "dir_type" reads "Dir type".
func sectionTitle(k string) string {
	k = strings.ReplaceAll(k, "_", " ")
	if k == "" {
		return generalTitle
	}
	return strings.ToUpper(k[:1]) + k[1:]
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// flatten appends the rows of v, named key, to rows: one row for a value
// that is not an object, or a list of such values, and one row per leaf
// otherwise, with dotted keys ("x.min") and indices ("layers[0].name").
func flatten(rows []Row, key string, v any) []Row {
	switch v := v.(type) {
	case map[string]any:
		if isAxis(v) {
			return append(rows, Row{Key: key, Value: axisText(v)})
		}
		if len(v) == 0 {
			return append(rows, Row{Key: key, Value: "none"})
		}
		for _, k := range sortedKeys(v) {
			rows = flatten(rows, key+"."+k, v[k])
		}
		return rows
	case []any:
		if len(v) == 0 {
			return append(rows, Row{Key: key, Value: "none"})
		}
		if !slices.ContainsFunc(v, isComposite) {
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = scalarText(x)
			}
			return append(rows, Row{Key: key, Value: strings.Join(parts, ", ")})
		}
		for i, x := range v {
			rows = flatten(rows, key+"["+strconv.Itoa(i)+"]", x)
		}
		return rows
	case string:
		if hashRE.MatchString(v) {
			prefix, hex, _ := strings.Cut(v, ":")
			if hex == "" {
				prefix, hex = "", v
			} else {
				prefix += ":"
			}
			if len(hex) > hashShown {
				return append(rows, Row{Key: key, Value: prefix + hex[:hashShown] + "…", Full: v})
			}
		}
	}
	return append(rows, Row{Key: key, Value: scalarText(v)})
}

func isComposite(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// axisKeys returns the min, max and n of an object holding just those
// three keys (in any case), with numbers for values.
func axisKeys(m map[string]any) (lo, hi, n json.Number, ok bool) {
	if len(m) != 3 {
		return "", "", "", false
	}
	found := 0
	for k, v := range m {
		num, isNum := v.(json.Number)
		if !isNum {
			return "", "", "", false
		}
		switch strings.ToLower(k) {
		case "min":
			lo, found = num, found+1
		case "max":
			hi, found = num, found+1
		case "n":
			n, found = num, found+1
		}
	}
	return lo, hi, n, found == 3
}

func isAxis(m map[string]any) bool {
	_, _, _, ok := axisKeys(m)
	return ok
}

// axisText describes an axis: "-1 to 1, 51 points".
func axisText(m map[string]any) string {
	lo, hi, n, _ := axisKeys(m)
	if n == "1" {
		return fmt.Sprintf("%s, 1 point", lo)
	}
	return fmt.Sprintf("%s to %s, %s points", lo, hi, n)
}

func scalarText(v any) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
