package conf

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// position is where something is written in the config file; 1-based, 0 when unknown.
type position struct{ line, column int }

func positionOf(n *yaml.Node) position { return position{line: n.Line, column: n.Column} }

// keyPositions maps each key path read from the file ("storage.endpoints[0].url") to where it
// is written, so that Validate's errors, which know only the key, can point at the line.
type keyPositions map[string]position

// add keeps the first place a key is written: a key set both in a mapping and in the mapping
// it merges (<<) takes the explicit value.
func (p keyPositions) add(key string, n *yaml.Node) {
	if _, ok := p[key]; !ok {
		p[key] = positionOf(n)
	}
}

// find returns where key is written or, when the file leaves it out, where its nearest
// enclosing key is ("storage.endpoints[0]" for a missing "storage.endpoints[0].access_key").
func (p keyPositions) find(key string) (position, bool) {
	for key != "" {
		if pos, ok := p[key]; ok {
			return pos, true
		}
		key = key[:max(strings.LastIndexAny(key, ".["), 0)]
	}
	return position{}, false
}

// locate gives each of Validate's errors (joined) about a key written in the file the file's
// name and the key's line, and puts them in the file's order after the others, which are
// about flags, environment variables and defaults and stay as they are.
func (p keyPositions) locate(file string, err error) error {
	if err == nil || len(p) == 0 {
		return err
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	var other []error
	var located []*fileError
	for _, e := range errs {
		var ke *keyError
		if errors.As(e, &ke) {
			if pos, ok := p.find(ke.key); ok {
				located = append(located, &fileError{file: file, pos: pos, err: e})
				continue
			}
		}
		other = append(other, e)
	}
	slices.SortStableFunc(located, func(a, b *fileError) int {
		return cmp.Or(cmp.Compare(a.pos.line, b.pos.line), cmp.Compare(a.pos.column, b.pos.column))
	})
	for _, e := range located {
		other = append(other, e)
	}
	return errors.Join(other...)
}

// keyError is a Validate error about one key, written as a sentence: 'key' reason.
type keyError struct{ key, reason string }

func (e *keyError) Error() string { return "'" + e.key + "' " + e.reason }

func keyErr(key, format string, a ...any) error {
	return &keyError{key: key, reason: fmt.Sprintf(format, a...)}
}

// fileError is an error at a place in the config file: "config FILE line L column C: KEY:
// reason", where KEY is the key path as the file writes it. Validate's errors carry their key
// in err, so key is empty for them.
type fileError struct {
	file string
	pos  position
	key  string
	err  error
}

func (e *fileError) Error() string {
	var b strings.Builder
	b.WriteString("config")
	if e.file != "" {
		b.WriteString(" " + e.file)
	}
	if e.pos.line > 0 {
		fmt.Fprintf(&b, " line %d", e.pos.line)
		if e.pos.column > 0 {
			fmt.Fprintf(&b, " column %d", e.pos.column)
		}
	}
	b.WriteString(": ")
	if e.key != "" {
		b.WriteString(e.key + ": ")
	}
	b.WriteString(e.err.Error())
	return b.String()
}

func (e *fileError) Unwrap() error { return e.err }

// yamlLineError matches the YAML parser's errors: "yaml: line 7: did not find expected key".
var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a YAML parser error into a fileError with its line, when it names one.
func syntaxError(file string, err error) error {
	msg := err.Error()
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		line, convErr := strconv.Atoi(m[1])
		if convErr == nil {
			return &fileError{file: file, pos: position{line: line}, err: errors.New(m[2])}
		}
	}
	return &fileError{file: file, err: errors.New(strings.TrimPrefix(msg, "yaml: "))}
}

// nodeKind names what a YAML node holds, as a user would call it.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if isNull(n) {
		return "empty"
	}
	return "a value"
}

// quoted writes a scalar for a message, cut short when long.
func quoted(s string) string {
	const most = 40
	if r := []rune(s); len(r) > most {
		s = string(r[:most]) + "…"
	}
	return strconv.Quote(s)
}

var timeType = reflect.TypeFor[time.Time]()

// wanted says what a value of type t is written as.
func wanted(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		return "a mapping"
	}
	if t == timeType {
		return "a time such as 2024-05-01T08:00:00Z"
	}
	return "a " + t.String()
}

// decimalDigits matches an integer too large for YAML's int, which it then reads as a float.
var decimalDigits = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

// wrongType says why node n cannot be read as a t.
func wrongType(n *yaml.Node, t reflect.Type) string {
	if n.Kind == yaml.ScalarNode && isInteger(t.Kind()) && decimalDigits.MatchString(n.Value) {
		return fmt.Sprintf("%s is out of range", quoted(n.Value))
	}
	return mismatch(n, wanted(t))
}

// mismatch says that n is not what was wanted.
func mismatch(n *yaml.Node, want string) string {
	if n.Kind == yaml.ScalarNode {
		return fmt.Sprintf("%s is not %s", quoted(n.Value), want)
	}
	return fmt.Sprintf("is %s, not %s", nodeKind(n), want)
}

// unknownKey says that key is not one of known, suggesting the nearest when it is close.
func unknownKey(parent, key string, known []string) string {
	msg := "unknown key"
	if near := nearest(key, known); near != "" {
		msg += ", did you mean " + near + "?"
	}
	if parent == "" {
		return fmt.Sprintf("%s (known top-level keys: %s)", msg, strings.Join(known, ", "))
	}
	return fmt.Sprintf("%s (known keys under %s: %s)", msg, parent, strings.Join(known, ", "))
}

// nearest returns the known key closest to key by edit distance (ignoring case), if it is
// close enough to be a typo: two edits, or a third of its length for long keys.
func nearest(key string, known []string) string {
	best, bestDist := "", max(2, len(key)/3)+1
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestDist && d < len(key) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = slices.Min([]int{prev[j] + 1, cur[j-1] + 1, prev[j-1] + cost})
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
