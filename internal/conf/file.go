package conf

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// decodeFile reads a config file's YAML into c, over what the flags set; an unknown key is an
// error. It takes bytes so that it can be fuzzed.
func (c *Config) decodeFile(b []byte) error {
	_, err := c.readFile(b)
	return err
}

// readFile is decodeFile that also returns where each key is written. Every error names the
// file (c.File), the line and column, and the key path as the file writes it.
//
// yaml.v3's decoder knows neither key paths nor, for custom unmarshalers, lines, and it reads
// 600.5 into an int as 600; so the file is parsed into a yaml.Node tree and walked here
// against Config's fields, each scalar decoded by yaml.v3 itself.
func (c *Config) readFile(b []byte) (keyPositions, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, syntaxError(c.File, err)
	}
	r := &fileReader{file: c.File, where: keyPositions{}, expanding: map[*yaml.Node]bool{}}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		r.value("", doc.Content[0], reflect.ValueOf(c).Elem())
	}
	return r.where, r.err()
}

const (
	// maxFileErrors is how many errors one reading reports, as a compiler stops after a few.
	maxFileErrors = 10
	// maxAliasExpansion bounds the values reached through aliases (*name), which can multiply
	// a small file into a huge tree.
	maxAliasExpansion = 20_000
)

// fileReader walks a config file's node tree into a value, collecting errors.
type fileReader struct {
	file  string
	where keyPositions
	errs  []error
	// stopped: too many errors or too much alias expansion; nothing more is read.
	stopped bool
	// expanding holds the aliases being followed, so that a cycle is an error, not a loop.
	expanding map[*yaml.Node]bool
	inAlias   int
	expanded  int
}

func (r *fileReader) fail(n *yaml.Node, key, format string, a ...any) {
	if r.stopped {
		return
	}
	r.errs = append(r.errs, &fileError{file: r.file, pos: positionOf(n), key: key, err: fmt.Errorf(format, a...)})
	if len(r.errs) >= maxFileErrors {
		r.stopped = true
		r.errs = append(r.errs, &fileError{file: r.file, err: errors.New("too many errors")})
	}
}

func (r *fileReader) err() error { return errors.Join(r.errs...) }

// visit counts a node reached through an alias; false stops the reading.
func (r *fileReader) visit(n *yaml.Node) bool {
	if r.stopped {
		return false
	}
	if r.inAlias > 0 {
		r.expanded++
		if r.expanded > maxAliasExpansion {
			r.fail(n, "", "aliases expand to more than %d values", maxAliasExpansion)
			r.stopped = true
			return false
		}
	}
	return true
}

// follow reads an alias node's anchor with read, refusing an anchor that contains itself.
func (r *fileReader) follow(key string, alias *yaml.Node, read func(*yaml.Node)) {
	if r.expanding[alias] {
		r.fail(alias, key, "alias *%s is inside its own anchor", alias.Value)
		return
	}
	r.expanding[alias] = true
	r.inAlias++
	read(alias.Alias)
	r.inAlias--
	delete(r.expanding, alias)
}

// value reads n, the value of key, into out.
func (r *fileReader) value(key string, n *yaml.Node, out reflect.Value) {
	if !r.visit(n) {
		return
	}
	if n.Kind == yaml.AliasNode {
		r.follow(key, n, func(a *yaml.Node) { r.value(key, a, out) })
		return
	}
	t := out.Type()
	switch {
	case isLeaf(t):
		r.leaf(key, n, out)
	case t.Kind() == reflect.Pointer:
		if isNull(n) {
			out.SetZero()
			return
		}
		if out.IsNil() {
			out.Set(reflect.New(t.Elem()))
		}
		r.value(key, n, out.Elem())
	case t.Kind() == reflect.Struct:
		if isNull(n) {
			return // as yaml.v3: "storage:" with nothing under it changes nothing
		}
		fields := fieldsOf(t)
		if n.Kind != yaml.MappingNode {
			want := "a mapping of keys (" + strings.Join(fields.names, ", ") + ")"
			if key == "" {
				r.fail(n, key, "the file must be %s, not %s", want, nodeKind(n))
				return
			}
			r.fail(n, key, "%s", mismatch(n, want))
			return
		}
		r.mapping(key, n, out, fields, map[string]bool{})
	case t.Kind() == reflect.Slice:
		r.sequence(key, n, out)
	default:
		r.leaf(key, n, out)
	}
}

var (
	unmarshalerType     = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
)

// isLeaf tells whether yaml.v3 decodes values of t whole: custom unmarshalers, times, and
// everything that is neither a struct, a list nor a pointer.
func isLeaf(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	if pt.Implements(unmarshalerType) || pt.Implements(textUnmarshalerType) || t == timeType {
		return true
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Pointer:
		return false
	case reflect.Slice:
		return t.Elem().Kind() == reflect.Uint8 // []byte is !!binary
	}
	return true
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// leaf decodes n into out with yaml.v3, in words when it does not fit.
func (r *fileReader) leaf(key string, n *yaml.Node, out reflect.Value) {
	if isInteger(out.Kind()) && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && !integral(n.Value) {
		r.fail(n, key, "%s", wrongType(n, out.Type())) // yaml.v3 would truncate it silently
		return
	}
	err := n.Decode(out.Addr().Interface())
	var typeErr *yaml.TypeError
	switch {
	case errors.As(err, &typeErr), err != nil && out.Type() == timeType: // time's own words are Go layouts
		r.fail(n, key, "%s", wrongType(n, out.Type()))
	case err != nil:
		r.fail(n, key, "%w", err) // a custom unmarshaler's own words
	}
}

func isInteger(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// sequence reads a list into the slice out, replacing it as yaml.v3 does.
func (r *fileReader) sequence(key string, n *yaml.Node, out reflect.Value) {
	if isNull(n) {
		out.SetZero()
		return
	}
	if n.Kind != yaml.SequenceNode {
		r.fail(n, key, "%s", wrongType(n, out.Type()))
		return
	}
	s := reflect.MakeSlice(out.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		k := fmt.Sprintf("%s[%d]", key, i)
		r.where.add(k, e)
		if isNull(e) {
			// yaml.v3 drops it without a word, and so shifts the indexes of the items after it.
			r.fail(e, k, "the list item is empty")
			continue
		}
		r.value(k, e, s.Index(i))
	}
	out.Set(s)
}

// mapping reads the mapping n into the struct out. seen holds the keys already set: a key
// written in a mapping wins over the same key in a mapping it merges (<<: *base), and of
// merged mappings the first wins, as in yaml.v3.
func (r *fileReader) mapping(key string, n *yaml.Node, out reflect.Value, fields structFields, seen map[string]bool) {
	var merges []*yaml.Node
	written := map[string]int{} // key → line, within n
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !r.visit(k) {
			return
		}
		if isMergeKey(k) {
			merges = append(merges, v)
			continue
		}
		name, ok := keyName(k)
		if !ok || name == "" {
			// yaml.v3 skips an empty key without a word; here it is a mistake like any other.
			r.fail(k, key, "a key must be a name, not %s", nodeKind(k))
			continue
		}
		child := joinKey(key, name)
		if line, dup := written[name]; dup {
			r.fail(k, child, "is written twice (first at line %d)", line)
			continue
		}
		written[name] = k.Line
		if seen[name] {
			continue
		}
		seen[name] = true
		index, ok := fields.index[name]
		if !ok {
			r.fail(k, child, "%s", unknownKey(key, name, fields.names))
			continue
		}
		r.where.add(child, k)
		r.value(child, v, out.FieldByIndex(index))
	}
	for _, m := range merges {
		r.merge(key, m, out, fields, seen)
	}
}

// merge reads the value of a << key: a mapping, or a list of mappings.
func (r *fileReader) merge(key string, m *yaml.Node, out reflect.Value, fields structFields, seen map[string]bool) {
	if !r.visit(m) {
		return
	}
	switch m.Kind {
	case yaml.AliasNode:
		r.follow(key, m, func(a *yaml.Node) { r.merge(key, a, out, fields, seen) })
	case yaml.MappingNode:
		r.mapping(key, m, out, fields, seen)
	case yaml.SequenceNode:
		for _, e := range m.Content {
			if e.Kind == yaml.SequenceNode {
				r.fail(e, joinKey(key, "<<"), "merges mappings, not lists of lists")
				continue
			}
			r.merge(key, e, out, fields, seen)
		}
	default:
		r.fail(m, joinKey(key, "<<"), "merges a mapping or a list of mappings, not %s", nodeKind(m))
	}
}

func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && (n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
}

// keyName is a mapping key as text; an alias key is read through.
func keyName(k *yaml.Node) (string, bool) {
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	return k.Value, k.Kind == yaml.ScalarNode && !isNull(k)
}

// joinKey writes the path of key name under parent; a name that would not read back as one
// key (spaces, dots, control characters) is quoted.
func joinKey(parent, name string) string {
	if strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) || strings.ContainsRune(` ."[]`, r) }) {
		name = strconv.Quote(name)
	}
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// structFields are the keys of a struct as yaml.v3 names them: the yaml tag, else the field
// name in lower case; inline structs contribute theirs.
type structFields struct {
	names []string // in declaration order, for messages
	index map[string][]int
}

func fieldsOf(t reflect.Type) structFields {
	fs := structFields{index: map[string][]int{}}
	fs.add(t, nil)
	return fs
}

func (fs *structFields) add(t reflect.Type, prefix []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag, ok := f.Tag.Lookup("yaml")
		if !ok && !strings.Contains(string(f.Tag), ":") {
			tag = string(f.Tag)
		}
		name, flags, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		index := append(append([]int(nil), prefix...), i)
		if strings.Contains(","+flags+",", ",inline,") && f.Type.Kind() == reflect.Struct {
			fs.add(f.Type, index)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fs.names = append(fs.names, name)
		fs.index[name] = index
	}
}

// integral tells whether a !!float scalar has no fraction ("08", "1e3"): yaml.v3 reads it into
// an integer exactly, as it should be (found by FuzzFileReader).
func integral(v string) bool {
	f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
	return err == nil && f == math.Trunc(f)
}
