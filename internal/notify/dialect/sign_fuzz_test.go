package dialect

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzSignCallback feeds the inputs of callback signing that come from API clients: the
// configuration's key and URL. A Standard Webhooks signature is made exactly when the key is
// usable (a whsec_ key must be valid, non-empty base64) and the id has no '.', and it verifies
// with an independent HMAC; the Alibaba signature signs the URL's host as written, whatever
// the URL holds.
func FuzzSignCallback(f *testing.F) {
	f.Add(vecSecret, vecID, vecTS, []byte(vecBody), "http://cb.example.com:8080/live?x=1")
	f.Add("whsec_", "evt.1", "0", []byte{}, "://")
	f.Add("whsec_!!!", "evt_1", "1", []byte("{}"), "http://[::1]/")
	f.Add("abcdefghijklmnopqrstuvwxyz012345", "evt_2", "1700000000", []byte(`{"a":1}`), "https://user:pw@h/p")
	f.Fuzz(func(t *testing.T, key, id, ts string, body []byte, callbackURL string) {
		sig, err := standardSign(key, id, ts, body)
		secret := []byte(key)
		usable := !strings.Contains(id, ".")
		if rest, ok := strings.CutPrefix(key, whsecPrefix); ok {
			var derr error
			secret, derr = base64.StdEncoding.DecodeString(rest)
			usable = usable && derr == nil && len(secret) > 0
		}
		if !usable {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		require.Equal(t, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)), sig)

		host, err := urlHost(callbackURL)
		u, perr := url.Parse(callbackURL)
		if perr != nil || u.Host == "" {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		require.Equal(t, u.Host, host)
		sum := md5.Sum([]byte(host + "|" + ts + "|" + key))
		require.Equal(t, hex.EncodeToString(sum[:]), aliyunSign(host, ts, key))
	})
}
