package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// firstDuplicate is a reference for CheckDuplicates written without its folding: it walks the
// tokens of a valid JSON text and compares every key of an object with the earlier ones by
// strings.EqualFold, returning the path of the first repeated one.
func firstDuplicate(t *testing.T, data []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var walk func(path string) (string, bool)
	walk = func(path string) (string, bool) {
		tok, err := dec.Token()
		require.NoError(t, err)
		switch tok {
		case json.Delim('{'):
			var keys []string
			for dec.More() {
				k, kerr := dec.Token()
				require.NoError(t, kerr)
				key := k.(string)
				field := key
				if path != "" {
					field = path + "." + key
				}
				for _, seen := range keys {
					if strings.EqualFold(seen, key) {
						return field, true
					}
				}
				keys = append(keys, key)
				if f, dup := walk(field); dup {
					return f, true
				}
			}
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if f, dup := walk(path + "[" + strconv.Itoa(i) + "]"); dup {
					return f, true
				}
			}
		default:
			return "", false
		}
		_, err = dec.Token() // the closing delimiter
		require.NoError(t, err)
		return "", false
	}
	return walk("")
}

// FuzzCheckDuplicates feeds arbitrary request bodies: on valid JSON, CheckDuplicates reports
// exactly the first key an object repeats (compared as encoding/json matches field names) and
// its path, and a body it passes decodes whole; on anything else it never panics.
func FuzzCheckDuplicates(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":2}`, `{"formats":[{"format":"mp4"},{"format":"flv","cycle_s":1,"CYCLE_S":2}]}`,
		`[{"x":1},[{"y":1,"y":1}]]`, `{"k":1,"\u212a":2}`, `{"a":1,"a":`, `{"a\ud800":1,"A\ufffd":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := CheckDuplicates(data)
		var de *DuplicateKeyError
		if err != nil {
			require.True(t, errors.As(err, &de), "%T %v", err, err)
		}
		if !json.Valid(data) || len(data) > 64<<10 {
			return
		}
		field, dup := firstDuplicate(t, data)
		require.Equal(t, dup, de != nil, "reference says %q", field)
		if dup {
			require.Equal(t, field, de.Field())
			return
		}
		var v json.RawMessage // not any: 1E1000 is valid JSON that no float64 holds
		require.NoError(t, Decode(data, &v))
		require.Equal(t, string(bytes.TrimSpace(data)), string(v))
	})
}
