// Package yamlcheck checks a YAML document against the Go type it will
// be decoded into, before yaml.v3 decodes it: unknown keys are named
// with the keys that exist, and a fraction in an integer field is an
// error (yaml.v3 would truncate 1.7 to 1). Messages carry the line and
// the key path, never Go type names.
package yamlcheck

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Check reports the first place where n does not fit type t.
func Check(n *yaml.Node, t reflect.Type) error {
	_, err := checkVisits(n, t)
	return err
}

// checkVisits is Check, also returning how many nodes it visited.
func checkVisits(n *yaml.Node, t reflect.Type) (int, error) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	c := &checker{seen: map[aliased]bool{}}
	err := c.check(n, t, "")
	return c.visits, err
}

// aliased is an anchored node checked as a type.
type aliased struct {
	n *yaml.Node
	t reflect.Type
}

// checker follows each anchored node once per type, so that aliases of
// aliases (a "billion laughs" file) cost their size, not their expansion.
type checker struct {
	seen   map[aliased]bool
	visits int
}

func (c *checker) check(n *yaml.Node, t reflect.Type, path string) error {
	c.visits++
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		// yaml.v3 decodes the anchored node (and refuses excessive
		// aliasing itself).
		k := aliased{n.Alias, t}
		if c.seen[k] {
			return nil
		}
		c.seen[k] = true
		return c.check(n.Alias, t, path)
	}
	if n.Tag == "!!null" {
		return nil
	}
	target := reflect.New(t).Interface()
	if _, custom := target.(yaml.Unmarshaler); custom {
		return nil // the type reads itself
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return errf(n, path, "want a mapping, got %s", kindName(n))
		}
		fields := map[string]reflect.Type{}
		collect(t, fields)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				// <<: *anchor (or a list of them) merges mappings of the
				// same type into this one.
				merged := []*yaml.Node{v}
				if v.Kind == yaml.SequenceNode {
					merged = v.Content
				}
				for _, m := range merged {
					if err := c.check(m, t, path); err != nil {
						return err
					}
				}
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				sort.Strings(names)
				return errf(k, join(path, k.Value), "unknown key, want one of %s", strings.Join(names, ", "))
			}
			if err := c.check(v, ft, join(path, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return errf(n, path, "want a list, got %s", kindName(n))
		}
		for i, e := range n.Content {
			if err := c.check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return errf(n, path, "want a mapping, got %s", kindName(n))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := c.check(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Interface:
		return nil
	default:
		if n.Kind != yaml.ScalarNode {
			return errf(n, path, "want a single value, got %s", kindName(n))
		}
		k := t.Kind()
		unsigned := k >= reflect.Uint && k <= reflect.Uint64
		integer := unsigned || k >= reflect.Int && k <= reflect.Int64
		if integer && n.ShortTag() == "!!float" && !WholeFits(n.Value, unsigned) {
			want := "an integer"
			if unsigned {
				want = "a non-negative integer"
			}
			return errf(n, path, "want %s, got %q", want, n.Value)
		}
		if err := n.Decode(target); err != nil {
			want := "a number"
			switch {
			case k == reflect.Bool:
				want = "true or false"
			case k == reflect.String:
				want = "a string"
			case unsigned:
				want = "a non-negative integer"
			case integer:
				want = "an integer"
			}
			return errf(n, path, "want %s, got %q", want, n.Value)
		}
	}
	return nil
}

// collect gathers the YAML keys of struct type t, descending into inline
// fields as yaml.v3 does.
func collect(t reflect.Type, fields map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue // yaml.v3 skips these too
		}
		tag := strings.Split(f.Tag.Get("yaml"), ",")
		if len(tag) > 1 && tag[1] == "inline" && f.Type.Kind() == reflect.Struct {
			collect(f.Type, fields)
			continue
		}
		key := tag[0]
		if key == "-" {
			continue
		}
		if key == "" {
			key = strings.ToLower(f.Name)
		}
		fields[key] = f.Type
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

// Error is a mismatch at a line of the document.
type Error struct {
	Line int
	Msg  string // "key.path: what is wrong"
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func errf(n *yaml.Node, path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	return &Error{Line: n.Line, Msg: msg}
}

// WholeFits reports whether a YAML float is a whole number (3.9e6, 2.0)
// that an integer field holds exactly (not negative for an unsigned
// one): yaml.v3 decodes such a float, truncating fractions and
// converting out-of-range values differently on each architecture.
func WholeFits(v string, unsigned bool) bool {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(v), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	var f float64
	if err := n.Content[0].Decode(&f); err != nil || f != math.Trunc(f) {
		return false
	}
	if unsigned {
		return f >= 0 && f < 1<<64
	}
	return f >= -(1<<63) && f < 1<<63
}
