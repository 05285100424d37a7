package yamlcheck

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type inner struct {
	N     int     `yaml:"n"`
	U     uint32  `yaml:"u"`
	F     float64 `yaml:"f"`
	On    bool    `yaml:"on"`
	Names []string
}

type outer struct {
	inner `yaml:",inline"`
	In    inner          `yaml:"in"`
	List  []inner        `yaml:"list"`
	Map   map[string]int `yaml:"map"`
	Any   map[string]any `yaml:"any"`
	Ptr   *inner         `yaml:"ptr"`
	Skip  int            `yaml:"-"`
}

func TestCheck(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"n: 1\nf: 2\nin: {n: 3, f: 1.5, on: true}\nlist: [{u: 4}]\nmap: {a: 1}\nany: {x: [1, b]}\nptr: {n: 2}\nnames: [a, b]\n", ""},
		{"n: 1.5\n", `line 1: n: want an integer, got "1.5"`},
		{"n: 3.9e6\nu: 2.0\n", ""}, // whole numbers, decoded exactly
		{"u: -2.0\n", `line 1: u: want a non-negative integer, got "-2.0"`},
		{"n: 1e19\n", `line 1: n: want an integer, got "1e19"`},
		{"in: &b {n: 1, u: 2}\nptr:\n  <<: *b\n  f: 2\nlist: [*b, {on: true}]\n", ""},
		{"base: &b {n: 1, u: 2}\nin:\n  <<: *b\n  f: 1.5\nptr: *b\n", "line 1: base: unknown key, want one of any, f, in, list, map, n, names, on, ptr, u"},
		{"in: &b {n: 1.5}\nptr: *b\n", `line 1: in.n: want an integer, got "1.5"`},
		{"list: [{n: 1}]\nin:\n  <<: [{u: 1}, {bad: 2}]\n", "line 3: in.bad: unknown key, want one of f, n, names, on, u"},
		{"in:\n  u: -1\n", `line 2: in.u: want a non-negative integer, got "-1"`},
		{"list:\n  - {n: 1}\n  - {bad: 2}\n", "line 3: list[1].bad: unknown key, want one of f, n, names, on, u"},
		{"map: {a: x}\n", `line 1: map.a: want an integer, got "x"`},
		{"in: 3\n", `line 1: in: want a mapping, got "3"`},
		{"list: {n: 1}\n", "line 1: list: want a list, got a mapping"},
		{"on: yes please\n", `line 1: on: want true or false, got "yes please"`},
		{"skip: 1\n", "line 1: skip: unknown key, want one of any, f, in, list, map, n, names, on, ptr, u"},
		{"ptr: {f: [1]}\n", "line 1: ptr.f: want a single value, got a list"},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(c.src), &n); err != nil {
			t.Fatal(err)
		}
		err := Check(&n, reflect.TypeOf(outer{}))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%q: error %q, want %q", c.src, got, c.want)
		}
	}
}

// TestAliasBomb: aliases of aliases are checked once each, not once per
// expansion (ten levels of ten would be 10^10 visits).
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("any:\n  l0: &l0 {n: 1}\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d {<<: [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]}\n")
	}
	b.WriteString("ptr: *l10\n")
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(b.String()), &n); err != nil {
		t.Fatal(err)
	}
	visits, err := checkVisits(&n, reflect.TypeOf(outer{}))
	if err != nil {
		t.Fatal(err)
	}
	// The document has about 130 nodes; each anchored one is checked once.
	if visits > 300 {
		t.Errorf("checking %d bytes of nested aliases visited %d nodes", b.Len(), visits)
	}
}
