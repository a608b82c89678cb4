// Package strictjson decodes API request bodies strictly, for every dialect that takes JSON:
// one value, no unknown fields, nothing after it, and no object key twice at any depth.
// encoding/json silently keeps the last of duplicated keys (matching field names without
// regard to case), so a proxy or a log reader that keeps the first would see another request
// than the one liverec acts on.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrTrailingData is data after the JSON value.
var ErrTrailingData = errors.New("unexpected data after the JSON value")

// DuplicateKeyError is an object key that appears twice in one object.
type DuplicateKeyError struct {
	// Path is the object's place in the body ("formats[0]", "" for the top level).
	Path string
	// Key is the second spelling of the key.
	Key string
}

// Field is the duplicated key's path, e.g. "formats[0].format".
func (e *DuplicateKeyError) Field() string { return join(e.Path, e.Key) }

func (e *DuplicateKeyError) Error() string { return "duplicate key " + strconv.Quote(e.Field()) }

// Decode decodes data into v, refusing duplicated keys (*DuplicateKeyError), unknown fields and
// trailing data (ErrTrailingData). Other errors are encoding/json's, for the caller to map to
// its dialect's error.
func Decode(data []byte, v any) error {
	if err := CheckDuplicates(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailingData
	}
	return nil
}

// frame is an open object or array.
type frame struct {
	object  bool
	path    string
	keys    map[string]struct{} // folded keys seen in the object
	key     string              // the object's key whose value comes next
	wantKey bool
	index   int // the array's next element
}

// CheckDuplicates returns a *DuplicateKeyError for the first key repeated within one object,
// or nil. Keys that differ only in case are duplicates too: encoding/json fills the same field
// from both. Malformed JSON returns nil: decoding it reports the error.
func CheckDuplicates(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers stay text: nothing to parse or overflow
	var stack []*frame
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or malformed: left to the decoder
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				path := ""
				if len(stack) > 0 {
					path = childPath(stack[len(stack)-1])
				}
				stack = append(stack, &frame{object: v == '{', path: path, wantKey: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				top := stack[n-1]
				k := fold(v)
				if _, dup := top.keys[k]; dup {
					return &DuplicateKeyError{Path: top.path, Key: v}
				}
				if top.keys == nil {
					top.keys = map[string]struct{}{}
				}
				top.keys[k] = struct{}{}
				top.key, top.wantKey = v, false
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// childPath is the path of the value that comes next in f.
func childPath(f *frame) string {
	if f.object {
		return join(f.path, f.key)
	}
	return f.path + "[" + strconv.Itoa(f.index) + "]"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fold maps s to one spelling of its case-insensitive class, as strings.EqualFold compares.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s) // the least rune of each ASCII letter's class, as below
	}
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}
