package strictjson

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckDuplicates(t *testing.T) {
	for _, tc := range []struct {
		in, field string // field "" = no duplicate
	}{
		{`{"a":1,"b":2}`, ""},
		{`{"a":1,"a":2}`, "a"},
		{`{"a":1,"A":2}`, "A"},
		{`{"a":{"b":1},"c":{"b":2}}`, ""},
		{`{"a":{"b":1,"b":2}}`, "a.b"},
		{`{"formats":[{"format":"mp4"},{"format":"flv","cycle_s":1,"cycle_s":2}]}`, "formats[1].cycle_s"},
		{`[{"x":1},[{"y":1,"y":1}]]`, "[1][0].y"},
		{`{"a":[1,2,{"k":"k","k":"v"}]}`, "a[2].k"},
		{`{"s":"a","t":"a"}`, ""},        // equal values are not keys
		{`{"a":"b","b":"a"}`, ""},        // a value spelled like a key
		{`{"k":1,"\u212a":2}`, "\u212a"}, // the Kelvin sign folds to k, as encoding/json matches it
		{`{"a":1,"a":`, "a"},             // truncated after the duplicate: still named
		{`{"a":1,"b"`, ""},               // truncated: left to the decoder
		{`{"a":{"deep":{"deeper":[{"z":0,"Z":0}]}}}`, "a.deep.deeper[0].Z"},
		{`1`, ""},
		{``, ""},
	} {
		err := CheckDuplicates([]byte(tc.in))
		if tc.field == "" {
			require.NoError(t, err, tc.in)
			continue
		}
		var de *DuplicateKeyError
		require.ErrorAs(t, err, &de, tc.in)
		require.Equal(t, tc.field, de.Field(), tc.in)
		require.Contains(t, de.Error(), tc.field)
	}
}

func TestDecode(t *testing.T) {
	type body struct {
		Name  string `json:"name"`
		Inner struct {
			N int `json:"n"`
		} `json:"inner"`
	}
	var b body
	require.NoError(t, Decode([]byte(`{"name":"x","inner":{"n":3}}`), &b))
	require.Equal(t, 3, b.Inner.N)

	var de *DuplicateKeyError
	require.ErrorAs(t, Decode([]byte(`{"name":"x","inner":{"n":3,"n":4}}`), &b), &de)
	require.Equal(t, "inner.n", de.Field())
	require.ErrorIs(t, Decode([]byte(`{"name":"x"} {}`), &b), ErrTrailingData)
	require.ErrorContains(t, Decode([]byte(`{"nom":"x"}`), &b), `unknown field "nom"`)
	var se *json.SyntaxError
	require.ErrorAs(t, Decode([]byte(`{"name":`+"\x01"+`}`), &b), &se)
}

// TestCheckDuplicatesLarge: a body of many keys is checked in one pass.
func TestCheckDuplicatesLarge(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("{")
	for i := range 50000 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `_` + itoa(i) + `":0`)
	}
	sb.WriteString(`,"k_0":1}`)
	require.NoError(t, CheckDuplicates([]byte(strings.Replace(sb.String(), `,"k_0":1}`, "}", 1))))
	var de *DuplicateKeyError
	require.ErrorAs(t, CheckDuplicates([]byte(strings.Replace(sb.String(), `,"k_0":1}`, `,"ka_0":1}`, 1))), &de)
	require.Equal(t, "ka_0", de.Key)
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
