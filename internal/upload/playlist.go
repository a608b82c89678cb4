package upload

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/recording"
)

// livePlaylist is what the Uploader knows of a playlist while its slices are stored one by one.
type livePlaylist struct {
	keys   []string
	slices []hls.Slice
	// where is the provisional object once a rewrite stored it (Key empty before).
	where       LivePlaylist
	recordingID string
	seq         int
}

// LivePlaylist is where a playlist being recorded can be played: its provisional object, an
// EVENT playlist rewritten after each stored slice.
type LivePlaylist struct {
	Format recording.Format
	// Endpoint is the rule's name of the storage endpoint (it may be an alias).
	Endpoint, Bucket, Key string
}

// LivePlaylists returns the live playlists of a recording in progress, newest first: every
// HLS file of the recording with at least one stored slice whose final playlist is not stored
// yet. Safe for concurrent use.
func (u *Uploader) LivePlaylists(recordingID string) []LivePlaylist {
	u.mu.Lock()
	var found []*livePlaylist
	for _, lp := range u.slices {
		if lp.recordingID == recordingID && lp.where.Key != "" {
			found = append(found, lp)
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].seq != found[j].seq {
			return found[i].seq > found[j].seq
		}
		return found[i].where.Format < found[j].where.Format
	})
	out := make([]LivePlaylist, len(found))
	for i, lp := range found {
		out[i] = lp.where
	}
	u.mu.Unlock()
	return out
}

func playlistID(recordingID string, format any, seq int) string {
	return fmt.Sprintf("%s/%s/%d", recordingID, format, seq)
}

// liveVars are the naming variables of a playlist's provisional key: every end-time variable
// renders as "live".
func liveVars(v NameVars) NameVars {
	v.End = time.Time{}
	return v
}

// sliceStored notes a stored slice and rewrites the live playlist at its provisional key, so
// the bucket always holds a playable playlist referencing only stored slices. A failed
// rewrite is logged: the next slice rewrites it again. A slice whose playlist's next job is
// already queued leaves the rewrite to that job.
func (u *Uploader) sliceStored(ctx context.Context, st ObjectStore, j *Job, key string) {
	id := playlistID(j.RecordingID, j.Format, j.PlaylistSeq)
	u.mu.Lock()
	lp := u.slices[id]
	if lp == nil {
		lp = &livePlaylist{recordingID: j.RecordingID, seq: j.PlaylistSeq}
		u.slices[id] = lp
	}
	lp.keys = append(lp.keys, key)
	lp.slices = append(lp.slices, j.Slice)
	if j.liveLater {
		u.mu.Unlock()
		return
	}
	keys, slices := append([]string(nil), lp.keys...), append([]hls.Slice(nil), lp.slices...)
	u.mu.Unlock()
	liveKey := u.key(j.Storage, j.Config.ObjectTemplate, liveVars(j.PlaylistVars), ".m3u8")
	uris, err := relativeURIs(liveKey, keys)
	if err == nil {
		err = st.Replace(ctx, j.Storage.Bucket, liveKey, hls.Playlist(slices, uris, false))
	}
	if err != nil {
		u.Logger.Warn("updating the live playlist failed", "key", liveKey, "err", err)
		return
	}
	u.mu.Lock()
	lp.where = LivePlaylist{Format: j.Format, Endpoint: j.Storage.Endpoint, Bucket: j.Storage.Bucket, Key: liveKey}
	u.mu.Unlock()
}

func (u *Uploader) storePlaylist(ctx context.Context, st ObjectStore, j *Job) (string, error) {
	id := playlistID(j.RecordingID, j.Format, j.Seq)
	u.mu.Lock()
	var keys []string
	if lp := u.slices[id]; lp != nil {
		keys = lp.keys
	}
	u.mu.Unlock()
	if len(keys) != len(j.Slices) {
		return "", fmt.Errorf("playlist has %d slices but %d were stored", len(j.Slices), len(keys))
	}
	stored, err := u.putPlaylist(ctx, st, j, keys)
	if err != nil {
		return "", err
	}
	u.mu.Lock()
	delete(u.slices, id)
	u.mu.Unlock()
	return stored, nil
}

// putPlaylist stores the final playlist over the stored slice keys, removes the provisional
// live playlist and the playlist's spool directory.
func (u *Uploader) putPlaylist(ctx context.Context, st ObjectStore, j *Job, keys []string) (string, error) {
	key := u.objectKey(j, j.Config.ObjectTemplate, ".m3u8")
	liveKey := u.key(j.Storage, j.Config.ObjectTemplate, liveVars(j.Vars), ".m3u8")
	uris, err := relativeURIs(key, keys)
	if err != nil {
		return "", err
	}
	body := hls.Playlist(j.Slices, uris, true)
	stored := key
	if key == liveKey {
		// A template without end-time variables: the final playlist replaces the live one.
		err = st.Replace(ctx, j.Storage.Bucket, key, body)
	} else {
		stored, err = st.PutBytes(ctx, j.Storage.Bucket, key, body)
		if err == nil {
			if derr := st.Delete(ctx, j.Storage.Bucket, liveKey); derr != nil {
				u.Logger.Warn("removing the live playlist failed", "key", liveKey, "err", derr)
			}
		}
	}
	if err != nil {
		return "", err
	}
	// The spool copy of the playlist is no longer needed once the bucket has the final one.
	if j.SpoolPath != "" {
		os.RemoveAll(j.SpoolPath)
	}
	return stored, nil
}

func relPath(dir, key string) (string, error) {
	rel, err := filepath.Rel(dir, key)
	return filepath.ToSlash(rel), err
}

// relativeURIs gives the slice keys as URIs relative to the playlist at key.
func relativeURIs(key string, keys []string) ([]string, error) {
	dir := path.Dir(key)
	uris := make([]string, len(keys))
	for i, k := range keys {
		rel, err := relPath(dir, k)
		if err != nil {
			return nil, fmt.Errorf("relative slice uri: %w", err)
		}
		uris[i] = rel
	}
	return uris, nil
}

// ContinuePlaylist seeds the playlist seq of a recording with the slices another node stored
// (a recording continued here), so this node's live and final playlists list them before
// its own. keys are the slices' object keys, in order. Call it before the playlist's first
// slice here is queued.
func (u *Uploader) ContinuePlaylist(recordingID string, format recording.Format, seq int, keys []string, slices []hls.Slice) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.slices[playlistID(recordingID, format, seq)] = &livePlaylist{recordingID: recordingID, seq: seq,
		keys: append([]string(nil), keys...), slices: append([]hls.Slice(nil), slices...)}
}
