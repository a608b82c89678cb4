package record

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/flv"
	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/record/mp4"
	"github.com/liverec/liverec/internal/record/sink"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/upload"
)

// fileWriter is one open file of one format, as the recorder drives it.
type fileWriter interface {
	WriteUnit(u *media.Unit) error
	// Flush hands buffered bytes to write(2).
	Flush() error
	// Close finishes the content and hands its last bytes to write(2), so that a crash, or a
	// shutdown that times out, while the job waits for the uploader loses none. The
	// returned job is queued for upload.
	Close() (*upload.Job, error)
	// Abort closes the file as it is on disk, for recovery (after a write error).
	Abort()
	// Path is the spool file (HLS: the playlist's directory).
	Path() string
	// Discontinuity marks where the file continues after a pause, with tracks. Only HLS marks
	// it; FLV and MP4 continue their timeline without a mark.
	Discontinuity(tracks media.Tracks)
}

// openWriter creates the writer of a format for one file in dir, its files with mode.
func openWriter(format recording.Format, dir, name string, mode fs.FileMode, tracks media.Tracks,
	cfg recording.FormatConfig, onSlice func(hls.Slice), cont *ContinuedPlaylist,
) (fileWriter, error) {
	switch format {
	case recording.FormatFLV:
		f, err := sink.CreateMode(filepath.Join(dir, "flv", name+".flv"), mode)
		if err != nil {
			return nil, err
		}
		w, err := flv.NewWriter(f, tracks)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("start flv file: %w", err)
		}
		return &flvFile{f: f, w: w}, nil
	case recording.FormatMP4:
		f, err := sink.CreateMode(filepath.Join(dir, "mp4", name+".fmp4"), mode)
		if err != nil {
			return nil, err
		}
		w, err := mp4.NewWriter(f, tracks)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("start mp4 file: %w", err)
		}
		return &mp4File{f: f, w: w}, nil
	case recording.FormatHLS:
		slice := time.Duration(cfg.SliceS) * time.Second
		if slice <= 0 {
			slice = 10 * time.Second
		}
		hc := hls.Config{Dir: filepath.Join(dir, "hls", name), SliceDuration: slice, OnSlice: onSlice, FileMode: mode}
		var prior []hls.Slice
		if cont != nil {
			// Another node's slices come before: the timeline restarts.
			hc.FirstSequence, hc.Continues, prior = cont.nextSlice(), true, cont.Slices
		}
		w, err := hls.NewWriter(hc, tracks)
		if err != nil {
			return nil, fmt.Errorf("start hls playlist: %w", err)
		}
		return &hlsFile{w: w, dir: filepath.Join(dir, "hls", name), prior: prior}, nil
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

type flvFile struct {
	f *sink.File
	w *flv.Writer
}

func (x *flvFile) WriteUnit(u *media.Unit) error { return x.w.WriteUnit(u) }
func (x *flvFile) Flush() error                  { return x.f.Flush() }
func (x *flvFile) Abort()                        { _ = x.f.Close() }
func (x *flvFile) Path() string                  { return x.f.Path() }
func (x *flvFile) Discontinuity(media.Tracks)    {}
func (x *flvFile) Close() (*upload.Job, error) {
	st, err := x.w.Close()
	if err != nil {
		x.f.Close()
		return nil, fmt.Errorf("finish flv file: %w", err)
	}
	if err := x.f.Flush(); err != nil {
		return nil, err
	}
	return &upload.Job{Kind: upload.JobFile, SpoolPath: x.f.Path(), Unsynced: x.f, Stats: upload.FileStats(st)}, nil
}

type mp4File struct {
	f *sink.File
	w *mp4.Writer
}

func (x *mp4File) WriteUnit(u *media.Unit) error { return x.w.WriteUnit(u) }
func (x *mp4File) Flush() error {
	if err := x.w.Flush(); err != nil {
		return err
	}
	return x.f.Flush()
}
func (x *mp4File) Abort()                     { _ = x.f.Close() }
func (x *mp4File) Path() string               { return x.f.Path() }
func (x *mp4File) Discontinuity(media.Tracks) {}
func (x *mp4File) Close() (*upload.Job, error) {
	st, err := x.w.Close()
	if err != nil {
		x.f.Close()
		return nil, fmt.Errorf("finish mp4 file: %w", err)
	}
	if err := x.f.Flush(); err != nil {
		return nil, err
	}
	return &upload.Job{Kind: upload.JobFile, SpoolPath: x.f.Path(), Unsynced: x.f, Stats: upload.FileStats(st),
		FinalizeMP4: true}, nil
}

type hlsFile struct {
	w   *hls.Writer
	dir string
	// prior are the slices another node stored before this node continued the playlist.
	prior []hls.Slice
}

func (x *hlsFile) WriteUnit(u *media.Unit) error { return x.w.WriteUnit(u) }
func (x *hlsFile) Flush() error                  { return x.w.Flush() }
func (x *hlsFile) Abort()                        { x.w.Abort() }
func (x *hlsFile) Path() string                  { return x.dir }
func (x *hlsFile) Discontinuity(t media.Tracks)  { x.w.Discontinuity(t) }
func (x *hlsFile) Close() (*upload.Job, error) {
	st, err := x.w.Close()
	if err != nil {
		return nil, fmt.Errorf("finish hls playlist: %w", err)
	}
	priorStats(x.prior, &st)
	return &upload.Job{Kind: upload.JobPlaylist, SpoolPath: x.dir, Slices: st.Slices, Stats: upload.FileStats{
		Duration: st.Duration, VideoFrames: st.VideoFrames, AudioFrames: st.AudioFrames, Bytes: st.Bytes,
	}}, nil
}
