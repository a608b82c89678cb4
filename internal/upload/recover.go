package upload

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/filemode"
	"github.com/liverec/liverec/internal/record/flv"
	"github.com/liverec/liverec/internal/record/hls"
)

// sliceJournal is the file in an HLS playlist's spool directory that lists its stored slices,
// one "seq key bytes video audio" line each: slices leave the spool once stored, and crash
// recovery needs their keys for the playlist.
const sliceJournal = "stored"

// maxJournalLine bounds a journal line read back.
const maxJournalLine = 4096

// putSlice stores a completed slice and notes it in the playlist's journal.
func (u *Uploader) putSlice(ctx context.Context, st ObjectStore, j *Job) (string, error) {
	key, err := st.Put(ctx, j.Storage.Bucket, u.objectKey(j, j.Config.SliceTemplate, ".ts"), j.SpoolPath)
	if err != nil {
		return "", err
	}
	line := journalLine(j.Seq, key, j.Stats)
	jf, err := filemode.OpenFile(filepath.Join(filepath.Dir(j.SpoolPath), sliceJournal),
		os.O_CREATE|os.O_APPEND|os.O_WRONLY, u.FileMode)
	if err == nil {
		_, err = jf.WriteString(line)
		err = errors.Join(err, jf.Close())
	}
	if err != nil {
		u.Logger.Warn("noting a stored slice in the spool journal failed", "key", key, "err", err)
	}
	return key, nil
}

type journalEntry struct {
	key   string
	stats FileStats
}

// journalLine is one journal entry. It starts with a newline too: a line a crash cut (the last
// one) is then ended before the next entry instead of swallowing it (found by FuzzReadJournal).
func journalLine(seq int, key string, st FileStats) string {
	return fmt.Sprintf("\n%d\t%s\t%d\t%d\t%d\n", seq, key, st.Bytes, st.VideoFrames, st.AudioFrames)
}

// readJournal reads the entries of a playlist's journal. Lines that are not whole entries are
// skipped: the unterminated last one (cut by a crash), over-long ones, malformed ones.
func readJournal(dir string) map[int]journalEntry {
	out := map[int]journalEntry{}
	jf, err := os.Open(filepath.Join(dir, sliceJournal))
	if err != nil {
		return out
	}
	defer jf.Close()
	return parseJournal(jf)
}

func parseJournal(r io.Reader) map[int]journalEntry {
	out := map[int]journalEntry{}
	br := bufio.NewReaderSize(r, maxJournalLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Skip the rest of a line no entry makes, then go on: stopping here would lose
			// every later entry (found by FuzzReadJournal).
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return out
			}
			continue
		}
		if err != nil {
			return out // EOF: a last line without its newline was cut
		}
		if seq, e, ok := parseJournalLine(strings.TrimSuffix(string(line), "\n")); ok {
			out[seq] = e
		}
	}
}

func parseJournalLine(line string) (int, journalEntry, bool) {
	fs := strings.Split(strings.TrimSuffix(line, "\r"), "\t")
	if len(fs) != 5 {
		return 0, journalEntry{}, false
	}
	seq, err := strconv.Atoi(fs[0])
	if err != nil || seq < 0 || fs[1] == "" {
		return 0, journalEntry{}, false
	}
	var n [3]int64
	for i := range n {
		if n[i], err = strconv.ParseInt(fs[2+i], 10, 64); err != nil || n[i] < 0 {
			return 0, journalEntry{}, false
		}
	}
	return seq, journalEntry{key: fs[1], stats: FileStats{Bytes: n[0], VideoFrames: n[1], AudioFrames: n[2]}}, true
}

// recover returns the attempt that recovers a file a crash or failure left in the spool, then
// stores it and reports it like any completed file.
func (u *Uploader) recover(ctx context.Context, j *Job) func() error {
	j.recovered = true
	switch filepath.Ext(j.SpoolPath) {
	case ".flv":
		done := false
		return func() error {
			if !done {
				st, err := flv.Recover(j.SpoolPath)
				if errors.Is(err, flv.ErrNothingToRecover) {
					u.Logger.Warn("dropping an FLV file without a complete frame", "path", j.SpoolPath)
					os.Remove(j.SpoolPath)
					return errDropped
				}
				if err != nil {
					return fmt.Errorf("recover flv: %w", err)
				}
				j.setStats(FileStats(st))
				j.Kind, done = JobFile, true
				u.Metrics.fileRecovered()
			}
			return u.store(ctx, j)
		}
	case ".fmp4":
		j.Kind, j.FinalizeMP4 = JobFile, true
		return func() error {
			if err := u.prepare(j); err != nil {
				return err
			}
			return u.store(ctx, j)
		}
	}
	return u.recoverPlaylist(ctx, j)
}

// recoverPlaylist returns the attempt that closes an HLS playlist over its complete slices plus
// the partial one cut to its last complete frame, stores the slices not stored yet and then the
// final playlist.
func (u *Uploader) recoverPlaylist(ctx context.Context, j *Job) func() error {
	dir := j.SpoolPath
	var slices []hls.Slice
	keys := map[int]string{}
	listed := false
	return func() error {
		if !listed {
			var err error
			if slices, err = recoverSlices(dir, u.Logger.Warn); err != nil {
				return err
			}
			listed = true
		}
		if len(slices) == 0 {
			os.RemoveAll(dir)
			return errDropped
		}
		st, err := u.Storage(j.Storage.Endpoint)
		if err != nil {
			return err
		}
		journal := readJournal(dir)
		for i, s := range slices {
			if keys[s.Seq] != "" {
				continue
			}
			if e, ok := journal[s.Seq]; ok {
				keys[s.Seq] = e.key
				slices[i].Bytes, slices[i].VideoFrames, slices[i].AudioFrames = e.stats.Bytes, e.stats.VideoFrames, e.stats.AudioFrames
				continue
			}
			if _, statErr := os.Stat(s.Path); statErr != nil {
				// Stored just before the crash, before the journal noted it: its key is the
				// rendered one (unless that collided).
				keys[s.Seq] = u.objectKey(u.sliceJob(j, s), j.Config.SliceTemplate, ".ts")
				u.Logger.Warn("slice gone from the spool and not in its journal; assuming its rendered key",
					"path", s.Path, "key", keys[s.Seq])
				continue
			}
			if s.VideoFrames+s.AudioFrames == 0 {
				// Listed in the index but not stored yet: count what it holds.
				if full, serr := hls.ScanSlice(s); serr == nil {
					slices[i], s = full, full
				}
			}
			key, putErr := u.putSlice(ctx, st, u.sliceJob(j, s))
			if putErr != nil {
				return fmt.Errorf("store recovered slice %s: %w", s.Path, putErr)
			}
			keys[s.Seq] = key
		}
		pj := &Job{Kind: JobPlaylist, RecordingID: j.RecordingID, Format: j.Format, Seq: j.Seq, SpoolPath: dir,
			Start: j.Start, Config: j.Config, Storage: j.Storage, Vars: j.Vars, Slices: slices, recovered: true}
		var total FileStats
		ordered := make([]string, len(slices))
		for i, s := range slices {
			ordered[i] = keys[s.Seq]
			total.Duration += s.Duration
			total.Bytes += s.Bytes
			total.VideoFrames += s.VideoFrames
			total.AudioFrames += s.AudioFrames
		}
		pj.setStats(total)
		key, err := u.putPlaylist(ctx, st, pj, ordered)
		if err != nil {
			return fmt.Errorf("store recovered playlist: %w", err)
		}
		u.Metrics.fileRecovered()
		u.Logger.Info("recovered playlist stored", "recording", j.RecordingID, "key", key, "slices", len(slices))
		if u.OnStored != nil {
			// Every slice, stored now or before the crash, is reported as live slices are, so
			// the catalogue lists them (a slice reported twice is written once).
			for _, s := range slices {
				u.OnStored(Stored{Job: u.sliceJob(j, s), Endpoint: j.Storage.Endpoint, Bucket: j.Storage.Bucket, ObjectKey: keys[s.Seq], Bytes: s.Bytes})
			}
			u.OnStored(Stored{Job: pj, Endpoint: j.Storage.Endpoint, Bucket: j.Storage.Bucket, ObjectKey: key, Bytes: pj.Stats.Bytes})
		}
		return nil
	}
}

// sliceJob describes slice s of the playlist job j for storing.
func (u *Uploader) sliceJob(j *Job, s hls.Slice) *Job {
	start := j.Start.Add(s.Start)
	v := j.Vars
	v.Sequence, v.Start, v.End = s.Seq, start, start.Add(s.Duration)
	return &Job{Kind: JobSlice, RecordingID: j.RecordingID, Format: j.Format, Seq: s.Seq, PlaylistSeq: j.Seq,
		SpoolPath: s.Path, Start: start, End: v.End, Config: j.Config, Storage: j.Storage, Vars: v, Slice: s,
		Stats: FileStats{Duration: s.Duration, Bytes: s.Bytes, VideoFrames: s.VideoFrames, AudioFrames: s.AudioFrames}}
}

// recoverSlices lists a playlist directory's slices: those its live index lists, then the
// slice files after them (written but not yet listed: the one a crash cut, or one whose index
// update failed), each cut to its last complete frame.
func recoverSlices(dir string, warn func(string, ...any)) ([]hls.Slice, error) {
	slices, _, err := hls.ReadIndex(dir)
	if err != nil {
		return nil, fmt.Errorf("read spool playlist: %w", err)
	}
	next, end := 0, playlistEnd(slices)
	if n := len(slices); n > 0 {
		next = slices[n-1].Seq + 1
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.ts"))
	if err != nil {
		return nil, err
	}
	type extra struct {
		seq  int
		path string
	}
	var extras []extra
	for _, p := range paths {
		seq, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(p), ".ts"))
		if err == nil && seq >= next {
			extras = append(extras, extra{seq, p})
		}
	}
	sort.Slice(extras, func(i, j int) bool { return extras[i].seq < extras[j].seq })
	for _, x := range extras {
		s, err := hls.RecoverSlice(x.path, x.seq, end)
		if errors.Is(err, hls.ErrNothingToRecover) {
			warn("dropping a slice without a complete frame", "path", x.path)
			os.Remove(x.path)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("recover slice: %w", err)
		}
		if len(slices) > 0 && x.seq != slices[len(slices)-1].Seq+1 {
			s.Discontinuity = true
		}
		slices = append(slices, s)
		end = s.Start + s.Duration
	}
	return slices, nil
}

func playlistEnd(slices []hls.Slice) (end time.Duration) {
	if n := len(slices); n > 0 {
		end = slices[n-1].Start + slices[n-1].Duration
	}
	return end
}
