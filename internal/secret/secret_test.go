package secret

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealOpen(t *testing.T) {
	b, err := New(bytes.Repeat([]byte{7}, KeySize))
	require.NoError(t, err)
	s1, err := b.Seal([]byte("s3cret"))
	require.NoError(t, err)
	s2, err := b.Seal([]byte("s3cret"))
	require.NoError(t, err)
	require.NotEqual(t, s1, s2, "a fresh nonce per seal")
	require.NotContains(t, string(s1), "s3cret")
	p, err := b.Open(s1)
	require.NoError(t, err)
	require.Equal(t, "s3cret", string(p))
	s1[len(s1)-1] ^= 1
	_, err = b.Open(s1)
	require.ErrorIs(t, err, ErrCorrupt)
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	_, err = other.Open(s2)
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = b.Open(nil)
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestLoadMasterKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "data", "master.key")
	k1, err := LoadMasterKey("", p)
	require.NoError(t, err)
	st, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	k2, err := LoadMasterKey("", p)
	require.NoError(t, err)
	require.Equal(t, k1, k2, "the key persists")
	k3, err := LoadMasterKey(hex.EncodeToString(bytes.Repeat([]byte{1}, 32)), p)
	require.NoError(t, err)
	require.Equal(t, bytes.Repeat([]byte{1}, 32), k3, "the environment wins")
	_, err = LoadMasterKey("short", p)
	require.Error(t, err)
}
