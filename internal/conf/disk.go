package conf

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Disk is the disk policy of the data dir, the spool and each local endpoint's root
// (internal/diskpolicy): water marks of free space, checked every CheckInterval.
type Disk struct {
	// HighFree: below it liverec warns (log, liverec_volume_low, a /readyz detail), and the
	// disk policy's deletions stop once a volume is above it again. Default 10%.
	HighFree FreeSpace `yaml:"high_free"`
	// LowFree: below it liverec deletes the oldest unlocked files of overwrite_when_full rules
	// stored on the volume, or refuses new recordings on it. Default 5%. 0 disables both.
	LowFree FreeSpace `yaml:"low_free"`
	// CheckInterval is how often free space is measured. Default 5s.
	CheckInterval Duration `yaml:"check_interval"`
}

// FreeSpace is an amount of free space: a byte count (an integer) or a share of the volume's
// size ("10%"). internal/diskpolicy's Mark turns it into bytes on each volume.
type FreeSpace struct {
	Bytes   int64
	Percent float64
	set     bool // given in the file, even as 0
}

// String writes it as the file does.
func (f FreeSpace) String() string {
	if f.Percent > 0 {
		return strconv.FormatFloat(f.Percent, 'f', -1, 64) + "%"
	}
	return strconv.FormatInt(f.Bytes, 10)
}

// UnmarshalYAML implements yaml.Unmarshaler: 1073741824 or "10%".
func (f *FreeSpace) UnmarshalYAML(n *yaml.Node) error {
	const want = `a byte count or a percentage such as "10%"`
	if n.Kind != yaml.ScalarNode {
		return errors.New(mismatch(n, want))
	}
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("%s is not %s: %w", quoted(n.Value), want, err)
	}
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
			return fmt.Errorf("%s is not a percentage of 0–100%%", quoted(s))
		}
		*f = FreeSpace{Percent: v, set: true}
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("%s is not %s", quoted(s), want)
	}
	*f = FreeSpace{Bytes: v, set: true}
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (f FreeSpace) MarshalYAML() (any, error) {
	if f.Percent > 0 {
		return f.String(), nil
	}
	return f.Bytes, nil
}

func (d *Disk) setDefaults() {
	if !d.HighFree.set {
		d.HighFree = FreeSpace{Percent: 10}
	}
	if !d.LowFree.set {
		d.LowFree = FreeSpace{Percent: 5}
	}
	d.HighFree.set, d.LowFree.set = true, true // defaulted values compare equal to given ones
	if d.CheckInterval == 0 {
		d.CheckInterval = Duration(5 * time.Second)
	}
}

func (d *Disk) validate() []error {
	var errs []error
	if d.CheckInterval.D() < 10*time.Millisecond {
		errs = append(errs, keyErr("disk.check_interval", "must be at least 10ms"))
	}
	// Marks of one kind can be compared here; a byte count against a percentage only on a
	// volume, where the monitor takes the higher one as the high mark.
	h, l := d.HighFree, d.LowFree
	if (h.Percent > 0) == (l.Percent > 0) && (l.Percent > h.Percent || l.Bytes > h.Bytes) {
		errs = append(errs, keyErr("disk.low_free", "(%s) must not be above 'disk.high_free' (%s)", l, h))
	}
	return errs
}
