// Package blobtest is the contract suite every blob.Store runs (like internal/store/storetest):
// an endpoint's test calls Exercise with a factory of fresh, empty targets.
package blobtest

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/filemode"
)

// Target is one fresh store to exercise.
type Target struct {
	Store blob.Store
	// Bucket exists and is empty.
	Bucket string
	// MissingBucket does not exist; empty when every bucket name exists (local buckets are
	// made on demand).
	MissingBucket string
	// Read returns bucket/key's bytes, read back without the Store; ok is false when the
	// object does not exist.
	Read func(t *testing.T, bucket, key string) (data []byte, ok bool)
	// Perm reads back the permissions of bucket/key, or of the folder a key prefix names;
	// nil for endpoints whose objects have none (S3).
	Perm func(t *testing.T, bucket, key string) fs.FileMode
	// FileMode is the mode Perm must find on every object (zero: filemode.Default), and
	// filemode.Dir of it on the folders the store made, whatever the source file's mode.
	FileMode fs.FileMode
}

// Exercise runs the contract against the store newTarget makes. Subtests run in parallel,
// one target each.
func Exercise(t *testing.T, newTarget func(t *testing.T) Target) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, tg Target)
	}{
		{"PutNeverOverwritesAndReturnsTheKeyUsed", putNeverOverwrites},
		{"PutSuffixGoesBeforeTheExtensionOfTheLastElement", suffixPlacement},
		{"ConcurrentPutsOfOneKeyLandUnderDistinctKeys", concurrentPuts},
		{"PutKeepsTheSourceWhenItFails", putKeepsSourceOnFailure},
		{"RoundTripIsByteIdentical", roundTrip},
		{"ReplaceOverwrites", replaceOverwrites},
		{"DeleteAndExists", deleteAndExists},
		{"BucketExists", bucketExists},
		{"BadKeysAreRefused", badKeys},
		{"URLServesTheObjectOrIsErrNoURL", urlServes},
		{"OpenStreamsTheObjectAndItsSize", openStreams},
		{"OpenOfAMissingObjectIsErrNotFound", openMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newTarget(t))
		})
	}
}

// spool writes data to a new file in a temp folder and returns its path. The file is private
// (0600, as os.CreateTemp makes them), so a stored object's mode must be the store's doing.
func spool(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.spool")
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// requireObject checks an object's bytes and, where objects have modes, its mode.
func requireObject(t *testing.T, tg Target, key string, want []byte) {
	t.Helper()
	got, ok := tg.Read(t, tg.Bucket, key)
	require.True(t, ok, "object %s exists", key)
	require.True(t, bytes.Equal(want, got), "object %s: %d bytes, want %d", key, len(got), len(want))
	if tg.Perm != nil {
		require.Equal(t, filemode.Or(tg.FileMode), tg.Perm(t, tg.Bucket, key), "mode of object %s", key)
	}
}

// requireFolder checks the mode of the folder a key prefix names, where objects have modes.
func requireFolder(t *testing.T, tg Target, prefix string) {
	t.Helper()
	if tg.Perm != nil {
		require.Equal(t, filemode.Dir(tg.FileMode), tg.Perm(t, tg.Bucket, prefix), "mode of folder %s", prefix)
	}
}

func putNeverOverwrites(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	var keys []string
	for i := range 3 {
		src := spool(t, []byte{byte(i)})
		k, err := st.Put(ctx, tg.Bucket, "live/test/a.flv", src)
		require.NoError(t, err)
		keys = append(keys, k)
		require.NoFileExists(t, src, "the source is removed once stored")
		require.NoFileExists(t, src+blob.SidecarSuffix)
	}
	require.Equal(t, []string{"live/test/a.flv", "live/test/a_1.flv", "live/test/a_2.flv"}, keys)
	for i, k := range keys {
		requireObject(t, tg, k, []byte{byte(i)})
	}
	k, err := st.PutBytes(ctx, tg.Bucket, "live/test/a.flv", []byte("x"))
	require.NoError(t, err)
	require.Equal(t, "live/test/a_3.flv", k)
	requireObject(t, tg, k, []byte("x"))
	requireObject(t, tg, "live/test/a.flv", []byte{0})

	// PutBytes first, Put after: the same rule both ways.
	k, err = st.PutBytes(ctx, tg.Bucket, "live/b.m3u8", []byte("1"))
	require.NoError(t, err)
	require.Equal(t, "live/b.m3u8", k)
	k, err = st.PutBytes(ctx, tg.Bucket, "live/b.m3u8", []byte("2"))
	require.NoError(t, err)
	require.Equal(t, "live/b_1.m3u8", k)
	k, err = st.Put(ctx, tg.Bucket, "live/b.m3u8", spool(t, []byte("3")))
	require.NoError(t, err)
	require.Equal(t, "live/b_2.m3u8", k)
	requireObject(t, tg, "live/b.m3u8", []byte("1"))
	requireObject(t, tg, "live/b_1.m3u8", []byte("2"))
	requireObject(t, tg, "live/b_2.m3u8", []byte("3"))
	requireFolder(t, tg, "live")
	requireFolder(t, tg, "live/test")
}

func suffixPlacement(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	for _, c := range []struct{ key, second string }{
		{"noext", "noext_1"},
		{"v1.2/noext", "v1.2/noext_1"},
		{"v1.2/x.tar.gz", "v1.2/x.tar_1.gz"},
		{"a/.hidden", "a/.hidden_1"}, {".env", ".env_1"},
	} {
		for i, want := range []string{c.key, c.second} {
			k, err := st.PutBytes(ctx, tg.Bucket, c.key, []byte{byte(i)})
			require.NoError(t, err)
			require.Equal(t, want, k)
		}
	}
}

func concurrentPuts(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	const n = 6
	keys := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		src := spool(t, []byte(fmt.Sprintf("writer %d", i)))
		wg.Go(func() {
			if i%2 == 0 {
				keys[i], errs[i] = st.Put(ctx, tg.Bucket, "live/c.mp4", src)
			} else {
				keys[i], errs[i] = st.PutBytes(ctx, tg.Bucket, "live/c.mp4", []byte(fmt.Sprintf("writer %d", i)))
			}
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		requireObject(t, tg, keys[i], []byte(fmt.Sprintf("writer %d", i)))
	}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	require.Equal(t, []string{"live/c.mp4", "live/c_1.mp4", "live/c_2.mp4", "live/c_3.mp4", "live/c_4.mp4", "live/c_5.mp4"}, sorted)
}

func putKeepsSourceOnFailure(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	src := spool(t, []byte("keep me"))
	_, err := st.Put(ctx, tg.Bucket, "../escape.flv", src)
	require.ErrorIs(t, err, blob.ErrBadKey)
	require.FileExists(t, src)
	if tg.MissingBucket != "" {
		_, err = st.Put(ctx, tg.MissingBucket, "live/a.flv", src)
		require.Error(t, err)
		require.FileExists(t, src, "a failed upload keeps its source")
	}
	_, err = st.Put(ctx, tg.Bucket, "live/a.flv", filepath.Join(t.TempDir(), "missing.flv"))
	require.Error(t, err, "a missing source is an error")
	ok, err := st.Exists(ctx, tg.Bucket, "live/a.flv")
	require.NoError(t, err)
	require.False(t, ok)

	k, err := st.Put(ctx, tg.Bucket, "live/a.flv", src)
	require.NoError(t, err)
	require.NoFileExists(t, src)
	requireObject(t, tg, k, []byte("keep me"))
}

func roundTrip(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 3<<20+17)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	every := make([]byte, 256*4)
	for i := range every {
		every[i] = byte(i)
	}
	for name, data := range map[string][]byte{"empty": {}, "every-byte": every, "random-3MiB": big} {
		k, err := st.Put(ctx, tg.Bucket, "rt/"+name+".bin", spool(t, data))
		require.NoError(t, err, name)
		requireObject(t, tg, k, data)
		k, err = st.PutBytes(ctx, tg.Bucket, "rt/bytes-"+name+".bin", data)
		require.NoError(t, err, name)
		requireObject(t, tg, k, data)
	}
	// Keys with spaces, unicode and characters that need escaping in URLs.
	for _, key := range []string{"a b/c d.flv", "直播/流.m3u8", "x+y=z&q?.ts", "100%.mp4"} {
		k, err := st.PutBytes(ctx, tg.Bucket, key, []byte(key))
		require.NoError(t, err, key)
		require.Equal(t, key, k)
		requireObject(t, tg, key, []byte(key))
	}
}

func replaceOverwrites(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	key := "live/playlist-live.m3u8"
	require.NoError(t, st.Replace(ctx, tg.Bucket, key, []byte("#EXTM3U\n1")), "Replace creates")
	requireObject(t, tg, key, []byte("#EXTM3U\n1"))
	require.NoError(t, st.Replace(ctx, tg.Bucket, key, []byte("#EXTM3U\n12")))
	requireObject(t, tg, key, []byte("#EXTM3U\n12"))
	require.NoError(t, st.Replace(ctx, tg.Bucket, key, nil), "an empty object")
	requireObject(t, tg, key, []byte{})
	_, ok := tg.Read(t, tg.Bucket, "live/playlist-live_1.m3u8")
	require.False(t, ok, "Replace never suffixes")
}

func deleteAndExists(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	ok, err := st.Exists(ctx, tg.Bucket, "d/x.flv")
	require.NoError(t, err)
	require.False(t, ok)
	_, err = st.PutBytes(ctx, tg.Bucket, "d/x.flv", []byte("x"))
	require.NoError(t, err)
	ok, err = st.Exists(ctx, tg.Bucket, "d/x.flv")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = st.Exists(ctx, tg.Bucket, "d")
	require.NoError(t, err)
	require.False(t, ok, "a prefix is not an object")

	require.NoError(t, st.Delete(ctx, tg.Bucket, "d/x.flv"))
	ok, err = st.Exists(ctx, tg.Bucket, "d/x.flv")
	require.NoError(t, err)
	require.False(t, ok)
	_, found := tg.Read(t, tg.Bucket, "d/x.flv")
	require.False(t, found)
	require.NoError(t, st.Delete(ctx, tg.Bucket, "d/x.flv"), "deleting a missing object is fine")
	require.NoError(t, st.Delete(ctx, tg.Bucket, "never/was.flv"))

	// A deleted key is free again.
	k, err := st.PutBytes(ctx, tg.Bucket, "d/x.flv", []byte("y"))
	require.NoError(t, err)
	require.Equal(t, "d/x.flv", k)
}

func bucketExists(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	ok, err := st.BucketExists(ctx, tg.Bucket)
	require.NoError(t, err)
	require.True(t, ok)
	if tg.MissingBucket != "" {
		ok, err = st.BucketExists(ctx, tg.MissingBucket)
		require.NoError(t, err)
		require.False(t, ok)
	}
	_, err = st.BucketExists(ctx, "..")
	require.ErrorIs(t, err, blob.ErrBadKey)
}

func badKeys(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	src := spool(t, []byte("x"))
	for _, c := range []struct{ bucket, key string }{
		{tg.Bucket, "../x.flv"}, {tg.Bucket, "/abs.flv"}, {tg.Bucket, "a/../../x"}, {tg.Bucket, "a/./b"},
		{tg.Bucket, "a/.."}, {"..", "x.flv"}, {"a/b", "x.flv"}, {"", "x"}, {tg.Bucket, ""},
		{tg.Bucket, "a//b"}, {tg.Bucket, "a/"},
	} {
		what := c.bucket + " " + c.key
		_, err := st.Put(ctx, c.bucket, c.key, src)
		require.ErrorIs(t, err, blob.ErrBadKey, what)
		_, err = st.PutBytes(ctx, c.bucket, c.key, []byte("x"))
		require.ErrorIs(t, err, blob.ErrBadKey, what)
		require.ErrorIs(t, st.Replace(ctx, c.bucket, c.key, []byte("x")), blob.ErrBadKey, what)
		require.ErrorIs(t, st.Delete(ctx, c.bucket, c.key), blob.ErrBadKey, what)
		_, err = st.Exists(ctx, c.bucket, c.key)
		require.ErrorIs(t, err, blob.ErrBadKey, what)
		_, err = st.URL(ctx, c.bucket, c.key, time.Minute)
		require.ErrorIs(t, err, blob.ErrBadKey, what)
		rc, _, err := st.Open(ctx, c.bucket, c.key)
		require.ErrorIs(t, err, blob.ErrBadKey, what)
		require.Nil(t, rc, what)
	}
	require.FileExists(t, src)
}

func urlServes(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	data := []byte("downloadable \x00\xff")
	k, err := st.PutBytes(ctx, tg.Bucket, "u/a b.flv", data)
	require.NoError(t, err)
	u, err := st.URL(ctx, tg.Bucket, k, time.Minute)
	if err != nil {
		require.ErrorIs(t, err, blob.ErrNoURL)
		return
	}
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", u, got)
	require.Equal(t, data, got)
}

func openStreams(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	rng := rand.New(rand.NewPCG(3, 4))
	big := make([]byte, 3<<20+5)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	for key, data := range map[string][]byte{"o/empty.ts": {}, "o/big.ts": big, "o/直播 a+b.m3u8": []byte("#EXTM3U\n")} {
		k, err := st.PutBytes(ctx, tg.Bucket, key, data)
		require.NoError(t, err, key)
		rc, size, err := st.Open(ctx, tg.Bucket, k)
		require.NoError(t, err, key)
		got, err := io.ReadAll(rc)
		require.NoError(t, err, key)
		require.NoError(t, rc.Close(), key)
		require.Equal(t, int64(len(data)), size, key)
		require.True(t, bytes.Equal(data, got), "%s: read %d bytes, want %d", key, len(got), len(data))
	}
	// A replaced object opens with its new content.
	require.NoError(t, st.Replace(ctx, tg.Bucket, "o/live.m3u8", []byte("one")))
	require.NoError(t, st.Replace(ctx, tg.Bucket, "o/live.m3u8", []byte("two!")))
	rc, size, err := st.Open(ctx, tg.Bucket, "o/live.m3u8")
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.Equal(t, "two!", string(got))
	require.Equal(t, int64(4), size)

	// A reader closed before its end releases the object: it can be deleted and opened again.
	rc, _, err = st.Open(ctx, tg.Bucket, "o/big.ts")
	require.NoError(t, err)
	head := make([]byte, 10)
	_, err = io.ReadFull(rc, head)
	require.NoError(t, err)
	require.Equal(t, big[:10], head)
	require.NoError(t, rc.Close())
	require.NoError(t, st.Delete(ctx, tg.Bucket, "o/big.ts"))
	_, _, err = st.Open(ctx, tg.Bucket, "o/big.ts")
	require.ErrorIs(t, err, blob.ErrNotFound)
}

func openMissing(t *testing.T, tg Target) {
	ctx, st := t.Context(), tg.Store
	_, err := st.PutBytes(ctx, tg.Bucket, "m/x.ts", []byte("x"))
	require.NoError(t, err)
	for _, key := range []string{"m/never.ts", "m", "m/x.ts/y", "other/x.ts"} {
		rc, _, err := st.Open(ctx, tg.Bucket, key)
		require.ErrorIs(t, err, blob.ErrNotFound, key)
		require.Nil(t, rc, key)
	}
	if tg.MissingBucket != "" {
		rc, _, err := st.Open(ctx, tg.MissingBucket, "m/x.ts")
		require.Error(t, err, "a missing bucket")
		require.Nil(t, rc)
	}
}
