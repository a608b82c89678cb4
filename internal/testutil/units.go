package testutil

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/media/flv"
)

// LoadFLV reads every media unit of an FLV file. Unit data is copied, so the units can be
// kept. Timestamps are the file's.
func LoadFLV(t testing.TB, path string) (media.Tracks, []media.Unit) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := flv.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var units []media.Unit
	for {
		u, err := r.ReadUnit()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		u.Data = append([]byte(nil), u.Data...)
		units = append(units, u)
	}
	return r.Tracks(), units
}

// CountUnits returns the number of video and audio units.
func CountUnits(units []media.Unit) (video, audio int) {
	for i := range units {
		if units[i].Track.IsVideo() {
			video++
		} else {
			audio++
		}
	}
	return video, audio
}
