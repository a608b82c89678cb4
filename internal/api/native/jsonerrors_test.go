package native

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// jsonErrorTarget has a field of each shape request bodies use.
type jsonErrorTarget struct {
	Count   int            `json:"count"`
	Small   uint8          `json:"small"`
	Ratio   float64        `json:"ratio"`
	Name    string         `json:"name"`
	On      *bool          `json:"on"`
	Events  []string       `json:"events"`
	Labels  map[string]int `json:"labels"`
	Storage struct {
		Bucket string `json:"bucket"`
	} `json:"storage"`
	Formats []struct {
		CycleS int `json:"cycle_s"`
	} `json:"formats"`
}

// TestJSONErrorsSayWhatTheFieldExpects: every decoding error names the field (with array
// indexes) and says what it takes and what it got, in the client's terms.
func TestJSONErrorsSayWhatTheFieldExpects(t *testing.T) {
	cases := []struct {
		name, body, prefix, field, message string
	}{
		{"Fraction", `{"count":600.5}`, "", "count", "count: must be an integer, got 600.5"},
		{"Exponent", `{"count":6e2}`, "", "count", "count: must be an integer, got 6e2"},
		{"StringForInteger", `{"count":"600"}`, "", "count", `count: must be an integer, got the string "600"`},
		{"TooLarge", `{"count":99999999999999999999}`, "", "count",
			"count: must be an integer from -9223372036854775808 to 9223372036854775807, got 99999999999999999999"},
		{"OutOfRange", `{"small":300}`, "", "small", "small: must be an integer from 0 to 255, got 300"},
		{"Negative", `{"small":-1}`, "", "small", "small: must be an integer from 0 to 255, got -1"},
		{"NumberForString", `{"name":5}`, "", "name", "name: must be a string, got 5"},
		{"BoolForString", `{"name":true}`, "", "name", "name: must be a string, got true"},
		{"StringForBool", `{"on":"yes"}`, "", "on", `on: must be true or false, got the string "yes"`},
		{"StringForNumber", `{"ratio":"1.5"}`, "", "ratio", `ratio: must be a number, got the string "1.5"`},
		{"StringForArray", `{"events":"record_started"}`, "", "events",
			`events: must be an array of strings, got the string "record_started"`},
		{"ArrayElement", `{"events":["a",7]}`, "", "events[1]", "events[1]: must be a string, got 7"},
		{"MapValue", `{"labels":{"x":1,"y":"2"}}`, "", "labels.y", `labels.y: must be an integer, got the string "2"`},
		{"ObjectForString", `{"storage":{"bucket":{}}}`, "", "storage.bucket", "storage.bucket: must be a string, got an object"},
		{"ArrayForObject", `{"storage":[]}`, "", "storage", "storage: must be an object, got an array"},
		{"NestedArray", `{"formats":[{"cycle_s":1},{"cycle_s":1.5}]}`, "", "formats[1].cycle_s",
			"formats[1].cycle_s: must be an integer, got 1.5"},
		{"WithPrefix", `{"count":1.5}`, "formats[2].", "formats[2].count", "formats[2].count: must be an integer, got 1.5"},
		{"WholeValueWithPrefix", `5`, "formats[2].", "formats[2]", "formats[2]: must be an object, got 5"},
		{"TopLevel", `[1]`, "", "", "body: must be an object, got an array"},
		{"LongString", `{"count":"0123456789012345678901234567890123456789xyz"}`, "", "count",
			`count: must be an integer, got the string "0123456789012345678901234567890123456789…"`},
		{"UnknownField", `{"name":"a","nmae":"b"}`, "", "nmae", "unknown field nmae"},
		{"UnknownNestedField", `{"storage":{"bucket":"b","region":"x"}}`, "", "storage.region", "unknown field storage.region"},
		{"UnknownFieldWithPrefix", `{"cycle":60}`, "formats[0].", "formats[0].cycle", "unknown field formats[0].cycle"},
		{"SyntaxOneLine", `{"count":1,}`, "", "", "malformed JSON at line 1, column 12 (byte 12): invalid character '}'"},
		{"SyntaxLines", "{\n  \"count\": 1\n  \"name\": \"a\"\n}", "", "",
			"malformed JSON at line 3, column 3 (byte 18): invalid character '\"' after object key:value pair"},
		{"Truncated", `{"count":`, "", "", "malformed JSON: the body ends before its JSON value does"},
		{"Duplicate", `{"count":1,"COUNT":2}`, "", "COUNT", "duplicate key COUNT"},
		{"Trailing", `{"count":1} {}`, "", "", "unexpected data after the JSON value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v jsonErrorTarget
			err := decodeStrict([]byte(tc.body), &v, tc.prefix)
			var be *badRequest
			require.True(t, errors.As(err, &be), "%T %v", err, err)
			require.Equal(t, http.StatusBadRequest, be.status)
			require.Equal(t, codeInvalidArgument, be.Code)
			require.Equal(t, tc.field, be.Field)
			require.Contains(t, be.Message, tc.message)
		})
	}
}

// TestWrongTypeOverHTTP: the rule from the issue, a merge window of 600.5 seconds.
func TestWrongTypeOverHTTP(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	r := c.json("p1", http.MethodPost, "/api/v1/rules",
		`{"domain":"a.com","app":"live","formats":[{"format":"flv","merge_window_s":600.5}]}`)
	r.requireError(t, http.StatusBadRequest, codeInvalidArgument, "formats[0].merge_window_s")
	require.Contains(t, string(r.body), `"message":"formats[0].merge_window_s: must be an integer, got 600.5"`)
}
