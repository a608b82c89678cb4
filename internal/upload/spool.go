package upload

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// QuarantineDir is the folder under the spool where recovery moves what it cannot read: liverec
// deletes only what it can prove it wrote and stored, so the unreadable is kept for a human.
const QuarantineDir = ".quarantine"

// recordingDirName is how the recorder names a recording's spool directory: its id
// (store.NewID with store.RecordingPrefix). Recovery touches no other name.
var recordingDirName = regexp.MustCompile(`^rec_[0-9a-f]{16}$`)

// SpoolContents is what a previous run left in the spool.
type SpoolContents struct {
	// Manifests are the recordings whose directory has a readable manifest: their files are
	// recovered and stored.
	Manifests []Manifest
	// Empty are recording directories without a single file (a crash before the first write):
	// removing them loses nothing.
	Empty []string
	// Unreadable are recording directories holding files but no readable manifest of their
	// own (missing, damaged, or naming another recording): their media cannot be named or
	// stored, so they go to quarantine.
	Unreadable []string
	// Foreign are entries liverec did not write (other names, files at the top): left alone.
	Foreign []string
}

// ReadSpool sorts the spool's top-level entries into SpoolContents.
func ReadSpool(spoolDir string) (SpoolContents, error) {
	var c SpoolContents
	ents, err := os.ReadDir(spoolDir)
	if err != nil {
		return c, fmt.Errorf("read spool: %w", err)
	}
	for _, e := range ents {
		dir := filepath.Join(spoolDir, e.Name())
		switch {
		case e.Name() == QuarantineDir:
		case !e.IsDir() || !recordingDirName.MatchString(e.Name()):
			c.Foreign = append(c.Foreign, dir)
		default:
			m, err := readManifest(dir)
			switch {
			case err == nil && m.RecordingID == e.Name():
				c.Manifests = append(c.Manifests, m)
			case !holdsFiles(dir):
				c.Empty = append(c.Empty, dir)
			default:
				c.Unreadable = append(c.Unreadable, dir)
			}
		}
	}
	return c, nil
}

// holdsFiles tells whether anything but directories is under dir (an unreadable one counts).
func holdsFiles(dir string) bool {
	found := false
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found || err != nil
}

// Quarantine moves a recording directory of the spool into its quarantine folder and returns
// where it went. The move is a rename within the spool, so it copies nothing.
func Quarantine(spoolDir, dir string, now time.Time) (string, error) {
	q := filepath.Join(spoolDir, QuarantineDir)
	if err := os.MkdirAll(q, 0o755); err != nil {
		return "", fmt.Errorf("create quarantine: %w", err)
	}
	dst := filepath.Join(q, filepath.Base(dir)+"-"+strconv.FormatInt(now.Unix(), 10))
	if err := os.Rename(dir, dst); err != nil {
		return "", fmt.Errorf("quarantine %s: %w", dir, err)
	}
	return dst, nil
}

// CheckSpoolPlacement refuses a spool that overlaps what liverec must never delete from: the
// data dir (database, master key) and the local buckets. The spool may live inside the data
// dir (its default) but not hold it, hold the database, or share a folder with a bucket root.
func CheckSpoolPlacement(spool, dataDir, dbPath string, bucketRoots []string) error {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return filepath.Clean(p)
		}
		if r, err := filepath.EvalSymlinks(a); err == nil {
			return r
		}
		return a
	}
	sp := abs(spool)
	if d := abs(dataDir); sp == d || within(d, sp) {
		return fmt.Errorf("storage.spool %s holds the data dir %s: recovery would treat its contents as spool", spool, dataDir)
	}
	if db := abs(dbPath); within(db, sp) {
		return fmt.Errorf("storage.spool %s holds the database %s", spool, dbPath)
	}
	for _, root := range bucketRoots {
		if r := abs(root); sp == r || within(r, sp) || within(sp, r) {
			return fmt.Errorf("storage.spool %s overlaps the local bucket root %s: keep them apart", spool, root)
		}
	}
	return nil
}

// within tells whether path p lies strictly inside dir (both absolute and clean).
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) &&
		!filepath.IsAbs(rel)
}
