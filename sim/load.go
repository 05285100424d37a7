package sim

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"github.com/edgeprof/edgeprof/internal/yamlcheck"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed presets/*.yaml
var presetFS embed.FS

// Presets returns the names of the embedded SoC presets, sorted.
func Presets() []string {
	ents, _ := presetFS.ReadDir("presets")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// PresetYAML returns the embedded text of a preset.
func PresetYAML(name string) ([]byte, error) {
	b, err := presetFS.ReadFile("presets/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("sim: unknown SoC preset %q (known: %s)", name, strings.Join(Presets(), ", "))
	}
	return b, nil
}

// Load reads a SoC by preset name or YAML file path and applies the
// overrides in sets ("caches.L2.size=1MiB"). A path that exists as a file
// wins over a preset of the same name.
func Load(nameOrPath string, sets []string) (*SoC, error) {
	return LoadPoint(nameOrPath, sets, nil)
}

// LoadPoint is Load with the values of one sweep point applied after
// sets, as the overrides key=value; errors in them name the --sweep flag
// they came from instead of --set.
func LoadPoint(nameOrPath string, sets []string, point []SweepValue) (*SoC, error) {
	ovs := make([]override, 0, len(sets)+len(point))
	for _, s := range sets {
		ovs = append(ovs, override{flag: "--set", arg: s})
	}
	for _, v := range point {
		ovs = append(ovs, override{flag: "--sweep", arg: v.Key + "=" + v.Value})
	}
	b, err := readSoC(nameOrPath)
	if err != nil {
		return nil, err
	}
	return parse(b, nameOrPath, ovs)
}

// readSoC returns the YAML of a SoC file or preset.
func readSoC(nameOrPath string) ([]byte, error) {
	st, statErr := os.Stat(nameOrPath)
	if statErr == nil && st.Mode().IsRegular() {
		if st.Size() > maxFileBytes {
			return nil, fmt.Errorf("%s: %d bytes, larger than the %d-byte limit for SoC files", nameOrPath, st.Size(), maxFileBytes)
		}
		return os.ReadFile(nameOrPath)
	}
	if b, err := PresetYAML(nameOrPath); err == nil {
		return b, nil
	}
	known := strings.Join(Presets(), ", ")
	switch {
	case statErr == nil:
		return nil, fmt.Errorf("%s: not a regular file; want a SoC YAML file or a preset (%s)", nameOrPath, known)
	case looksLikePath(nameOrPath):
		return nil, fmt.Errorf("%s: no such file; want a SoC YAML file or a preset (%s)", nameOrPath, known)
	}
	return nil, fmt.Errorf("SoC %q is neither a file nor a preset (known presets: %s)", nameOrPath, known)
}

// GivenYAML returns a SoC file or preset with sets applied as it gives
// its values, comments kept, defaults and derived values left out (SoC.YAML
// writes those out): the form to copy and edit, since a value derived
// from another (a cache's energy from its size, a DRAM's timings from
// its grade) then follows an edit of that one. The SoC must load.
func GivenYAML(nameOrPath string, sets []string) ([]byte, error) {
	if _, err := Load(nameOrPath, sets); err != nil {
		return nil, err
	}
	b, err := readSoC(nameOrPath)
	if err != nil {
		return nil, err
	}
	ovs := make([]override, len(sets))
	for i, s := range sets {
		ovs[i] = override{flag: "--set", arg: s}
	}
	root, _, err := parseNode(b, nameOrPath, ovs)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// looksLikePath tells a file name from a preset name: presets have no
// directories and no extension.
func looksLikePath(s string) bool {
	return strings.ContainsAny(s, `/\`) || strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml")
}

// maxFileBytes bounds SoC files: they are a few KiB; anything far larger
// is a mistake, and YAML decoding of untrusted input must stay bounded.
const maxFileBytes = 1 << 20

// Parse decodes a SoC description strictly: unknown keys, duplicate keys,
// wrong types and out-of-range values are errors of one line naming the
// file, the line and the key ("my.yaml:7: caches[L2].ways: ..."). sets
// are overrides "path=value" applied before validation; errors in them
// name the override instead of a line. name labels errors (a file name
// or preset name).
func Parse(data []byte, name string, sets []string) (*SoC, error) {
	ovs := make([]override, len(sets))
	for i, s := range sets {
		ovs[i] = override{flag: "--set", arg: s}
	}
	return parse(data, name, ovs)
}

// override is one path=value applied to a document, with the flag it
// came from (--set or --sweep) for messages.
type override struct {
	flag, arg string
}

func (o override) String() string { return o.flag + " " + o.arg }

func parse(data []byte, name string, ovs []override) (*SoC, error) {
	root, l, err := parseNode(data, name, ovs)
	if err != nil {
		return nil, err
	}
	if err := l.check(root, reflect.TypeOf(SoC{}), ""); err != nil {
		return nil, err
	}
	var soc SoC
	if err := root.Decode(&soc); err != nil {
		return nil, fmt.Errorf("%s: %s", name, yamlMessage(err))
	}
	if err := soc.resolve(l.given); err != nil {
		return nil, l.locate(err, &soc)
	}
	return &soc, nil
}

// parseNode reads one YAML document and applies the overrides to it.
func parseNode(data []byte, name string, ovs []override) (*yaml.Node, *loader, error) {
	if len(data) > maxFileBytes {
		return nil, nil, fmt.Errorf("%s: %d bytes, larger than the %d-byte limit for SoC files", name, len(data), maxFileBytes)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, nil, fmt.Errorf("%s: empty SoC description, want a mapping with name and caches", name)
		}
		return nil, nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return nil, nil, yamlError(name, err)
		}
		return nil, nil, fmt.Errorf("%s:%d: a second YAML document; want one SoC per file", name, extra.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	l := &loader{name: name, lines: map[string]int{}, setBy: map[string]string{}, display: map[string]string{}}
	expandShorthands(root)
	for _, o := range ovs {
		if err := l.applySet(root, o); err != nil {
			return nil, nil, err
		}
	}
	return root, l, nil
}

// loader carries what error messages need: the file name, the line of
// every path, and which paths came from --set.
type loader struct {
	name    string
	lines   map[string]int    // "caches[1].ways" -> line
	setBy   map[string]string // path -> the override that wrote it ("--set caches.L2.size=1MiB")
	display map[string]string // "caches[1]" -> "caches[L2]"
}

// given reports whether the document (or an override) has the key at
// path: an explicit zero is then a value to check, not a request for
// the default.
func (l *loader) given(path string) bool {
	_, ok := l.lines[path]
	return ok
}

// shorthands are the top-level sections that may be written as a bare
// name, with the key that name fills in: "dram: lpddr5-6400" means what
// --set dram=lpddr5-6400 means on a SoC without a dram section.
var shorthands = map[string]string{"dram": "grade", "flash": "device"}

// expandShorthands rewrites "dram: GRADE" and "flash: DEVICE" into their
// mappings, before overrides descend into them.
func expandShorthands(root *yaml.Node) {
	if root.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		field, ok := shorthands[root.Content[i].Value]
		v := root.Content[i+1]
		if !ok || v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
			continue
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: field, Line: v.Line, Column: v.Column}
		val := *v
		*v = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: v.Line, Column: v.Column, Content: []*yaml.Node{key, &val}}
	}
}

// nameOf returns the value of a mapping's name key, for messages.
func nameOf(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// show rewrites the longest indexed prefix of path with its name.
func (l *loader) show(path string) string {
	for p := path; p != ""; {
		if d, ok := l.display[p]; ok {
			return d + path[len(p):]
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return path
}

// check walks node against the Go type t, recording lines and rejecting
// unknown keys, duplicate keys, aliases, and the wrong kind of node.
func (l *loader) check(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind == yaml.AliasNode {
		return l.errf(path, n, "YAML aliases are not supported in SoC files")
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if path != "" {
		if _, seen := l.lines[path]; !seen {
			l.lines[path] = n.Line
		}
	}
	switch {
	case t == reflect.TypeOf(Size(0)):
		if n.Kind != yaml.ScalarNode {
			return l.errf(path, n, "want a size such as 64KiB, got a %s", kindName(n.Kind))
		}
		if _, err := ParseSize(n.Value); err != nil {
			return l.errf(path, n, "%v", err)
		}
		return nil
	case t == reflect.TypeOf(Prefetcher{}) && n.Kind == yaml.ScalarNode:
		return nil
	}
	if field, ok := shorthands[path]; ok && n.Kind == yaml.ScalarNode {
		// expandShorthands took every string; what is left is null or
		// a number.
		got := fmt.Sprintf("%q", n.Value)
		if n.Tag == "!!null" {
			got = "null"
		}
		return l.errf(path, n, "want a %s name (%s: %s) or a mapping, got %s", field, path, map[string]string{"grade": "lpddr5-6400", "device": "ufs-4.0"}[field], got)
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return l.errf(path, n, "want a mapping, got a %s", kindName(n.Kind))
		}
		fields := map[string]reflect.Type{}
		var known []string
		yamlFields(t, fields, &known)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := join(path, k.Value)
			if prev, dup := seen[k.Value]; dup {
				return l.errf(kp, k, "key %q repeated (first at line %d)", k.Value, prev)
			}
			seen[k.Value] = k.Line
			ft, ok := fields[k.Value]
			if !ok {
				return l.errf(kp, k, "unknown key %q (known: %s)", k.Value, strings.Join(known, ", "))
			}
			// Name sequence elements by their name key, for messages.
			if err := l.check(v, ft, kp); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return l.errf(path, n, "want a list, got a %s", kindName(n.Kind))
		}
		if len(n.Content) > 64 {
			return l.errf(path, n, "%d entries, want at most 64", len(n.Content))
		}
		for i, e := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if name := nameOf(e); name != "" {
				l.display[p] = fmt.Sprintf("%s[%s]", l.show(path), name)
			}
			if err := l.check(e, t.Elem(), p); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return l.errf(path, n, "want a mapping, got a %s", kindName(n.Kind))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if err := l.check(v, t.Elem(), join(path, k.Value)); err != nil {
				return err
			}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return l.errf(path, n, "want a scalar, got a %s", kindName(n.Kind))
		}
		target := reflect.New(t).Interface()
		_, custom := target.(yaml.Unmarshaler)
		k := t.Kind()
		unsigned := k >= reflect.Uint && k <= reflect.Uint64
		integer := unsigned || k >= reflect.Int && k <= reflect.Int64
		// yaml.v3 truncates a float into an integer field (2.7 -> 2).
		if integer && !custom && n.ShortTag() == "!!float" && !yamlcheck.WholeFits(n.Value, unsigned) {
			want := "an integer"
			if unsigned {
				want = "a non-negative integer"
			}
			return l.errf(path, n, "want %s, got %q", want, n.Value)
		}
		if err := n.Decode(target); err != nil {
			want := map[reflect.Kind]string{reflect.Bool: "true or false", reflect.String: "a string"}[k]
			switch {
			case want != "":
			case unsigned:
				want = "a non-negative integer"
			default:
				want = "an integer"
			}
			return l.errf(path, n, "want %s, got %q", want, n.Value)
		}
	}
	return nil
}

// yamlFields collects the YAML keys of struct type t, descending into
// inline fields (`yaml:",inline"`) as yaml.v3 does.
func yamlFields(t reflect.Type, fields map[string]reflect.Type, known *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")
		if len(tag) > 1 && tag[1] == "inline" && f.Type.Kind() == reflect.Struct {
			yamlFields(f.Type, fields, known)
			continue
		}
		key := tag[0]
		if key == "" || key == "-" {
			continue
		}
		fields[key] = f.Type
		*known = append(*known, key)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// errf formats an error at a node: "file:line: path: message", or with
// the --set argument that produced the node.
func (l *loader) errf(path string, n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	shown := l.show(path)
	if shown == "" {
		shown = "(top level)"
	}
	if set, ok := l.setFor(path); ok {
		return fmt.Errorf("%s: %s: %s: %s", l.name, set, shown, msg)
	}
	if n != nil && n.Line > 0 {
		return fmt.Errorf("%s:%d: %s: %s", l.name, n.Line, shown, msg)
	}
	return fmt.Errorf("%s: %s: %s", l.name, shown, msg)
}

// setFor returns the --set argument that wrote path, a parent of it, or
// something below it (a set that turned a scalar into a mapping).
func (l *loader) setFor(path string) (string, bool) {
	for p := path; p != ""; {
		if s, ok := l.setBy[p]; ok {
			return s, true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	for _, k := range sortedKeys(l.setBy) {
		if strings.HasPrefix(k, path+".") || strings.HasPrefix(k, path+"[") {
			return l.setBy[k], true
		}
	}
	return "", false
}

// setsNear lists the --set arguments that touched the section of path
// ("caches[1]" for "caches[1].size"): a value from the file can be wrong
// only in combination with them.
func (l *loader) setsNear(path string) string {
	section := path
	if m := levelIndex.FindString(path); m != "" {
		section = m
	} else if i := strings.IndexAny(path, ".["); i >= 0 {
		section = path[:i]
	}
	var near []string
	for _, k := range sortedKeys(l.setBy) {
		if k == section || strings.HasPrefix(k, section+".") || strings.HasPrefix(k, section+"[") {
			near = append(near, l.setBy[k])
		}
	}
	if len(near) == 0 {
		return ""
	}
	return " (after " + strings.Join(near, ", ") + ")"
}

var levelIndex = regexp.MustCompile(`^caches\[(\d+)\]`)

// locate turns a validation error into a one-line message with the line
// of the offending key (or of its nearest parent present in the file) and
// the level named by its name.
func (l *loader) locate(err error, soc *SoC) error {
	var pe *pathError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", l.name, err)
	}
	line := 0
	for p := pe.path; p != ""; {
		if n, ok := l.lines[p]; ok {
			line = n
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	display := l.show(pe.path)
	if m := levelIndex.FindStringSubmatch(display); m != nil {
		if i, _ := strconv.Atoi(m[1]); i < len(soc.Caches) && soc.Caches[i].Name != "" {
			display = "caches[" + soc.Caches[i].Name + "]" + display[len(m[0]):]
		}
	}
	if set, ok := l.setFor(pe.path); ok {
		return fmt.Errorf("%s: %s: %s: %s", l.name, set, display, pe.msg)
	}
	if line > 0 {
		return fmt.Errorf("%s:%d: %s: %s%s", l.name, line, display, pe.msg, l.setsNear(pe.path))
	}
	return fmt.Errorf("%s: %s: %s%s", l.name, display, pe.msg, l.setsNear(pe.path))
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError formats a yaml.v3 syntax error as "file:line: message".
func yamlError(name string, err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s: YAML syntax: %s", name, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", name, yamlMessage(err))
}

// yamlMessage makes a yaml.v3 error one line.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "; ")
	}
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.HasPrefix(s, "line ") { // "line 3: mapping values are not allowed"
		return s
	}
	return strings.ReplaceAll(s, "\n", "; ")
}

// applySet applies one "path=value" override to the document. Path
// segments are mapping keys; in the caches list a segment names a level
// (caches.L2.size) or gives its index (caches.1.size). Missing keys and
// sections are created; a scalar that must become a mapping (prefetcher:
// none, then prefetcher.degree=2) becomes {name: <scalar>}.
func (l *loader) applySet(root *yaml.Node, o override) error {
	set := o.String()
	key, value, ok := strings.Cut(o.arg, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return fmt.Errorf("%s: %s: want path=value, e.g. caches.L2.size=1MiB", l.name, set)
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: %s: the document is not a mapping", l.name, set)
	}
	if _, ok := shorthands[key]; ok {
		return l.applyShorthand(root, key, strings.TrimSpace(value), set)
	}
	n := root
	var chain []step // the mappings descended through, for noteSet
	path := ""
	segs := strings.Split(key, ".")
	for i, seg := range segs {
		if seg == "" {
			return fmt.Errorf("%s: %s: empty path segment", l.name, set)
		}
		last := i == len(segs)-1
		switch n.Kind {
		case yaml.ScalarNode:
			// prefetcher: next-line  ->  prefetcher: {name: next-line}
			name := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "name"}
			val := *n
			*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{name, &val}}
			fallthrough
		case yaml.MappingNode:
			var child *yaml.Node
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == seg {
					child = n.Content[j+1]
				}
			}
			path = join(path, seg)
			if child == nil {
				child = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
				if !last {
					child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: seg}, child)
			}
			chain = append(chain, step{n, seg})
			n = child
		case yaml.SequenceNode:
			idx := -1
			for j, e := range n.Content {
				if e.Kind != yaml.MappingNode {
					continue
				}
				for k := 0; k+1 < len(e.Content); k += 2 {
					if e.Content[k].Value == "name" && e.Content[k+1].Value == seg {
						idx = j
					}
				}
			}
			if idx < 0 {
				if v, err := strconv.Atoi(seg); err == nil && v >= 0 && v < len(n.Content) {
					idx = v
				}
			}
			if idx < 0 {
				return fmt.Errorf("%s: %s: %s has no entry named %q", l.name, set, path, seg)
			}
			path = fmt.Sprintf("%s[%d]", path, idx)
			n = n.Content[idx]
		default:
			return fmt.Errorf("%s: %s: cannot descend into %s", l.name, set, path)
		}
		if last {
			v := strings.TrimSpace(value)
			changed := n.Kind != yaml.ScalarNode || n.Value != v
			*n = yaml.Node{Kind: yaml.ScalarNode, Value: v}
			l.setBy[path] = set
			// A source note set by hand is the user's own; leave it.
			if changed && !slices.Contains(segs, "source") {
				noteSet(chain, set)
			}
		}
	}
	return nil
}

// step is one mapping a --set path descends through, and the key taken.
type step struct {
	node *yaml.Node
	key  string
}

// noteSet rewrites the source note of a value that --set changed, so
// that the shown sources and a result's provenance do not cite the
// preset's evidence for a value it no longer has. The note is in the
// source map of the nearest mapping on the path that has one: under the
// value's own key (replaced), or under the key of the part of the
// section holding it (dram.org.channels: "channels"; dram.controller.*:
// "controller"), or a section's single source string (flash), which
// keeps the rest and adds what changed (the last tag, [est], is then the
// note's). weights_budget's note
// lives in page_cache's map.
func noteSet(chain []step, set string) {
	if len(chain) == 1 && chain[0].key == "weights_budget" {
		if pc := mapChild(chain[0].node, "page_cache"); pc != nil {
			chain = []step{{pc, "weights_budget"}}
		}
	}
	what := strings.TrimPrefix(strings.TrimPrefix(set, "--set "), "--sweep ")
	what, _, _ = strings.Cut(what, "=")
	for i := len(chain) - 1; i >= 0; i-- {
		src := mapChild(chain[i].node, "source")
		if src == nil {
			continue
		}
		// A what-if value is the user's: an estimate, not evidence.
		switch {
		case src.Kind == yaml.ScalarNode:
			*src = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: src.Value + "; " + what + " given by " + set + " [est]"}
		case src.Kind != yaml.MappingNode:
		case i == len(chain)-1:
			if v := mapChild(src, chain[i].key); v != nil {
				*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "given by " + set + " [est]"}
			}
		default:
			for _, key := range []string{chain[len(chain)-1].key, chain[i].key} {
				if v := mapChild(src, key); v != nil && v.Kind == yaml.ScalarNode {
					*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.Value + "; " + what + " given by " + set + " [est]"}
					break
				}
			}
		}
		return
	}
}

// mapChild returns the value of key in mapping n, or nil.
func mapChild(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == key {
			return n.Content[j+1]
		}
	}
	return nil
}

// applyShorthand applies --set dram=GRADE and --set flash=DEVICE (set is
// the whole flag, for messages). A new DRAM grade keeps what belongs to
// the SoC rather than to the DRAM devices: the channel count (its bus
// width), the fabric latency, the memory controller's queues and write
// policy (not its refresh mode, mapping or transaction size) and the
// sources; the organization, timing and power of another standard do
// not carry over. A new flash device drops the old device's overrides.
func (l *loader) applyShorthand(root *yaml.Node, key, value, set string) error {
	if value == "" {
		return fmt.Errorf("%s: %s: want a name, e.g. dram=lpddr5-6400 or flash=ufs-4.0", l.name, set)
	}
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	var old *yaml.Node
	idx := -1
	for j := 0; j+1 < len(root.Content); j += 2 {
		if root.Content[j].Value == key {
			old, idx = root.Content[j+1], j+1
		}
	}
	field := shorthands[key]
	sec := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{str(field), str(value)}}
	if key == "dram" && old != nil && old.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(old.Content); j += 2 {
			k, v := old.Content[j], old.Content[j+1]
			switch k.Value {
			case "fabric_latency_ns", "source":
				sec.Content = append(sec.Content, k, v)
			case "controller":
				// The policy stays; refresh mode, address mapping and
				// transaction size depend on the standard (DDR4 has no
				// per-bank refresh, bank groups change the mapping).
				if v.Kind != yaml.MappingNode {
					continue
				}
				kept := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				for i := 0; i+1 < len(v.Content); i += 2 {
					switch v.Content[i].Value {
					case "refresh", "mapping", "bank_xor", "transaction_bytes":
					default:
						kept.Content = append(kept.Content, v.Content[i], v.Content[i+1])
					}
				}
				sec.Content = append(sec.Content, k, kept)
			case "org":
				if v.Kind != yaml.MappingNode {
					continue
				}
				for i := 0; i+1 < len(v.Content); i += 2 {
					if v.Content[i].Value == "channels" {
						org := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{v.Content[i], v.Content[i+1]}}
						sec.Content = append(sec.Content, k, org)
					}
				}
			}
		}
	}
	if old == nil || mapChild(old, field) == nil || mapChild(old, field).Value != value {
		noteSet([]step{{sec, field}}, set)
	}
	if idx < 0 {
		root.Content = append(root.Content, str(key), sec)
	} else {
		root.Content[idx] = sec
	}
	l.setBy[key+"."+field] = set
	return nil
}
