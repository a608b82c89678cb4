package pubauth

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzConfigs are the signing methods FuzzVerify picks from by index.
var fuzzConfigs = []struct {
	cfg  *Config
	opts Options
}{
	{aliyun, Options{}},
	{aliyun, strict},
	{hwA, Options{}},
	{hwB, Options{}},
	{hwD, Options{}},
}

// signedMaterial is what a method's signature covers in r: a change anywhere else (the host,
// other parameters; for B and D the app) is not a change of the signed URL.
func signedMaterial(m Method, r Request) []string {
	switch m {
	case MethodHuaweiB:
		return append([]string{r.Stream}, append(r.Query[ParamTxSecret], r.Query[ParamTxTime]...)...)
	case MethodHuaweiD:
		return append([]string{r.Stream}, append(r.Query[ParamHwSecret], r.Query[ParamHwTime]...)...)
	}
	return append([]string{r.URI}, r.Query[ParamAuthKey]...)
}

// validName is §1's stream and app name rule, so the fuzzer signs only publishable names.
func validName(s string) bool {
	if s == "" || len(s) > 128 || s == "." || s == ".." {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-') {
			return false
		}
	}
	return true
}

// FuzzVerify: a URL Sign made is admitted at its time, and the same URL with any one byte of
// what its method signs changed is refused, never with a key in the error.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(0), "live", "stream1", int64(1700003600), "0", uint16(20), byte('x'))
	f.Add(uint8(1), "live", "stream1", int64(1700003600), "0", uint16(40), byte('1'))
	f.Add(uint8(2), "live", "stream1", int64(1700000000), hwRand, uint16(3), byte('L'))
	f.Add(uint8(3), "live", "stream1", int64(1700000000), "", uint16(60), byte('F'))
	f.Add(uint8(4), "app.v2", "cam_01~x", int64(1592613000), "", uint16(90), byte('%'))
	f.Fuzz(func(t *testing.T, method uint8, app, stream string, unix int64, rnd string, pos uint16, ch byte) {
		if !validName(app) || !validName(stream) {
			return
		}
		fc := fuzzConfigs[int(method)%len(fuzzConfigs)]
		if unix < 0 {
			unix = -(unix + 1)
		}
		now := time.Unix(1_000_000_000+unix%3_000_000_000, 0)
		q, err := Sign(fc.cfg, IngestRequest(app, stream, nil), now, rnd, fc.opts)
		if err != nil {
			if !token(rnd) && rnd != "" {
				return // Sign refuses a rand auth_key cannot carry
			}
			t.Fatalf("sign: %v", err)
		}
		signed := "/" + app + "/" + stream + "?" + q
		r, err := ParseURL("rtmp://push.example.com" + signed)
		if err != nil {
			t.Fatalf("parse %q: %v", signed, err)
		}
		if err = Verify(fc.cfg, r, now, fc.opts); err != nil {
			t.Fatalf("%s: %q refused at its own time: %v", fc.cfg.Method, signed, err)
		}

		i := int(pos) % len(signed)
		if signed[i] == ch {
			return
		}
		mutated := signed[:i] + string([]byte{ch}) + signed[i+1:]
		m, err := ParseURL("rtmp://push.example.com" + mutated)
		if err != nil {
			return // refused before verification
		}
		if slices.Equal(signedMaterial(fc.cfg.Method, r), signedMaterial(fc.cfg.Method, m)) {
			return // the byte is not covered by this method's signature
		}
		err = Verify(fc.cfg, m, now, fc.opts)
		if err == nil {
			t.Fatalf("%s: %q (from %q) was admitted", fc.cfg.Method, mutated, signed)
		}
		if ReasonOf(err) == "" {
			t.Fatalf("refusal without a reason: %v", err)
		}
		for _, key := range []string{fc.cfg.Key, fc.cfg.BackupKey} {
			if key != "" && strings.Contains(err.Error(), key) {
				t.Fatalf("refusal shows a key: %v", err)
			}
		}
	})
}
