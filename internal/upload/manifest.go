package upload

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/filemode"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
)

// ManifestName is the file in a recording's spool directory that describes the recording, so
// that a restart after a crash can recover, name and store its files.
const ManifestName = "recording.json"

// maxManifestSize bounds what is read back from a manifest.
const maxManifestSize = 1 << 20

// Manifest is what the spool keeps about a recording.
type Manifest struct {
	RecordingID string         `json:"recording_id"`
	Key         stream.Key     `json:"key"`
	Rule        recording.Rule `json:"rule"`
	Start       time.Time      `json:"start"`
}

// WriteManifest writes a recording's manifest into its spool directory, spoolDir/RecordingID,
// creating it (temp file and rename, so a crash leaves the old one or the new one). The file
// has mode, the directory filemode.Dir(mode) (storage.file_mode; zero: the default).
func WriteManifest(spoolDir string, m Manifest, mode fs.FileMode) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode recording manifest: %w", err)
	}
	dir := filepath.Join(spoolDir, m.RecordingID)
	if err := filemode.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("create recording spool dir: %w", err)
	}
	tmp := filepath.Join(dir, ManifestName+".tmp")
	if err := filemode.WriteFile(tmp, b, mode); err != nil {
		return fmt.Errorf("write recording manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, ManifestName)); err != nil {
		return fmt.Errorf("write recording manifest: %w", err)
	}
	return nil
}

func readManifest(dir string) (Manifest, error) {
	var m Manifest
	f, err := os.Open(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, err
	}
	defer f.Close()
	dec := json.NewDecoder(&limitedReader{f: f, n: maxManifestSize})
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("read recording manifest: %w", err)
	}
	return m, nil
}

type limitedReader struct {
	f interface{ Read([]byte) (int, error) }
	n int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("manifest too large")
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= n
	return n, err
}

// RecoveryJobs lists the files a recording left in the spool as JobRecover jobs, in the order
// they were written per format: FLV files, fragmented MP4 files, HLS playlist directories.
func RecoveryJobs(spoolDir string, m Manifest) ([]*Job, error) {
	dir := filepath.Join(spoolDir, m.RecordingID)
	var jobs []*Job
	for _, fc := range m.Rule.Formats {
		var pattern string
		switch fc.Format {
		case recording.FormatFLV:
			pattern = "flv/*.flv"
		case recording.FormatMP4:
			pattern = "mp4/*.fmp4"
		case recording.FormatHLS:
			pattern = "hls/*"
		default:
			continue
		}
		paths, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, fmt.Errorf("list spool files: %w", err)
		}
		type found struct {
			seq   int
			start time.Time
			path  string
		}
		var fs []found
		for _, p := range paths {
			seq, start, ok := parseSpoolName(filepath.Base(p))
			if !ok {
				continue
			}
			fs = append(fs, found{seq, start, p})
		}
		sort.Slice(fs, func(i, j int) bool { return fs[i].seq < fs[j].seq })
		for _, x := range fs {
			v := NameVars{Domain: m.Key.Domain, App: m.Key.App, Stream: m.Key.Stream, Format: string(fc.Format),
				RecordType: RecordType(m.Rule.Mode), Sequence: x.seq, Start: x.start, End: x.start}
			jobs = append(jobs, &Job{Kind: JobRecover, RecordingID: m.RecordingID, Format: fc.Format, Seq: x.seq,
				SpoolPath: x.path, Start: x.start, Config: fc, Storage: m.Rule.Storage, Vars: v})
		}
	}
	return jobs, nil
}

// SpoolName names a file (HLS: a playlist directory) in the spool by its sequence number and
// start, which crash recovery reads back (parseSpoolName).
func SpoolName(seq int, start time.Time) string {
	return strconv.Itoa(seq) + "_" + strconv.FormatInt(start.UnixMilli(), 10)
}

// parseSpoolName reads back SpoolName ("<seq>_<start unix ms>", with any extension).
func parseSpoolName(name string) (int, time.Time, bool) {
	name = strings.TrimSuffix(name, filepath.Ext(name))
	a, b, ok := strings.Cut(name, "_")
	if !ok {
		return 0, time.Time{}, false
	}
	seq, err1 := strconv.Atoi(a)
	ms, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || seq < 0 {
		return 0, time.Time{}, false
	}
	return seq, time.UnixMilli(ms), true
}

// spoolHasMedia tells whether a recording's spool directory still holds a file to store.
func spoolHasMedia(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() && filepath.Base(p) != ManifestName && filepath.Base(p) != sliceJournal {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// ReadManifest reads the manifest of recording id in spoolDir (another node's spool).
func ReadManifest(spoolDir, id string) (Manifest, error) {
	m, err := readManifest(filepath.Join(spoolDir, id))
	if err != nil {
		return Manifest{}, err
	}
	if m.RecordingID != id {
		return Manifest{}, fmt.Errorf("manifest of %s names recording %s", id, m.RecordingID)
	}
	return m, nil
}
