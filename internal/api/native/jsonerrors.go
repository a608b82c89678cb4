package native

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
)

// jsonError turns encoding/json's errors about data into 400s in the client's terms: which
// field, what it expects and what it got ("merge_window_s: must be an integer, got 600.5"),
// where a syntax error is. prefix is data's place in the request ("formats[0].", or "").
func jsonError(err error, data []byte, prefix string) error {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
		be *badRequest
	)
	switch {
	case errors.As(err, &be):
		return err
	case errors.As(err, &se):
		if prefix != "" { // a part of the body already read as valid JSON: offsets are its own
			return invalidArgument(fieldPath(prefix, ""), "malformed JSON in %s: %v", fieldPath(prefix, ""), se)
		}
		line, col := lineColumn(data, se.Offset)
		return invalidArgument("", "malformed JSON at line %d, column %d (byte %d): %v", line, col, se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalidArgument(fieldPath(prefix, ""), "malformed JSON: the body ends before its JSON value does")
	case errors.As(err, &te):
		return typeError(te, data, prefix)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		key, uerr := strconv.Unquote(name)
		if uerr != nil {
			key = name
		}
		field := fieldPath(prefix, uniqueKeyPath(data, key))
		return invalidArgument(field, "unknown field %s", field)
	}
	return invalidArgument(fieldPath(prefix, ""), "invalid JSON: %v", err)
}

// typeError says what a field expects and what it was given.
func typeError(te *json.UnmarshalTypeError, data []byte, prefix string) error {
	path, got, found := valueAt(data, te.Offset)
	if !found { // cannot happen for data encoding/json read; keep its own words
		path, got = te.Field, strings.TrimPrefix(te.Value, "number ")
	}
	field := fieldPath(prefix, path)
	return invalidArgument(field, "%s: must be %s, got %s", cmp.Or(field, "body"), expected(te.Type, got), got)
}

// expected names what a Go type takes, as a JSON value; got is the value given, which tells an
// integer out of range from one with a fraction.
func expected(t reflect.Type, got string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, ok := new(big.Int).SetString(got, 10); ok {
			return fmt.Sprintf("an integer from %d to %d", int64(-1)<<(t.Bits()-1), int64(1)<<(t.Bits()-1)-1)
		}
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if _, ok := new(big.Int).SetString(got, 10); ok {
			return fmt.Sprintf("an integer from 0 to %d", uint64(math.MaxUint64)>>(64-t.Bits()))
		}
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string" // how encoding/json takes []byte
		}
		return "an array of " + plural(t.Elem())
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a JSON " + t.Kind().String()
}

func plural(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integers"
	case reflect.Float32, reflect.Float64:
		return "numbers"
	case reflect.String:
		return "strings"
	case reflect.Bool:
		return "booleans"
	case reflect.Slice, reflect.Array:
		return "arrays"
	case reflect.Struct, reflect.Map:
		return "objects"
	}
	return "values"
}

// valueAt finds the value that ends at offset (a scalar) or opens just before it (an array or
// object), which is where encoding/json's UnmarshalTypeError points: its path, with array
// indexes ("formats[1].cycle_s"), and how to show it to the client.
func valueAt(data []byte, offset int64) (path, shown string, found bool) {
	found = walkJSON(data, func(p string, tok json.Token, end int64) bool {
		if end != offset {
			return false
		}
		path, shown = p, showValue(tok)
		return true
	})
	return path, shown, found
}

// uniqueKeyPath is the path of key in data when key appears once; otherwise key alone, as
// encoding/json names an unknown field only by its key.
func uniqueKeyPath(data []byte, key string) string {
	var paths []string
	walkJSON(data, func(p string, _ json.Token, _ int64) bool {
		if p == key || strings.HasSuffix(p, "."+key) {
			paths = append(paths, p)
		}
		return false
	})
	if len(paths) == 1 {
		return paths[0]
	}
	return key
}

func showValue(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		if r := []rune(v); len(r) > 40 { // the client's own value, shortened
			v = string(r[:40]) + "…"
		}
		return "the string " + strconv.Quote(v)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return "null"
}

// walkJSON calls visit for every value of data with its path, its token (the opening
// delimiter of an array or object) and the offset just after that token, until visit returns
// true (then walkJSON does too). It stops quietly at malformed JSON.
func walkJSON(data []byte, visit func(path string, tok json.Token, end int64) bool) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		path    string
		object  bool
		wantKey bool   // an object's next token is a key
		key     string // the key whose value comes next
		index   int
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		path := ""
		if n := len(stack); n > 0 {
			top := stack[n-1]
			if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
				stack = stack[:n-1]
				continue
			}
			if top.wantKey {
				top.key, _ = tok.(string) // Token returns keys as strings
				top.wantKey = false
				continue
			}
			if top.object {
				path = joinKey(top.path, top.key)
				top.wantKey = true
			} else {
				path = fmt.Sprintf("%s[%d]", top.path, top.index)
				top.index++
			}
		}
		if visit(path, tok, dec.InputOffset()) {
			return true
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &frame{path: path, object: d == '{', wantKey: d == '{'})
		}
	}
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldPath joins a request prefix ("formats[0].", "stream") and a path inside it.
func fieldPath(prefix, path string) string {
	if path == "" || strings.HasPrefix(path, "[") {
		return strings.TrimSuffix(prefix, ".") + path
	}
	return prefix + path
}

// lineColumn is the 1-based line and column of the byte encoding/json's SyntaxError points
// after (offset bytes read).
func lineColumn(data []byte, offset int64) (line, col int) {
	pos := int(min(max(offset-1, 0), int64(len(data))))
	before := data[:pos]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = pos - bytes.LastIndexByte(before, '\n')
	return line, col
}
