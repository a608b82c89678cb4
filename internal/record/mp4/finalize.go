package mp4

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"

	"github.com/liverec/liverec/internal/media"
)

// movieTimescale is the mvhd clock (ISO 14496-12 §8.2.2): milliseconds, as most muxers use.
const movieTimescale = 1000

// copyBufSize is the buffer sample data is copied through: the payload streams from the
// fragmented file and is never held whole in memory.
const copyBufSize = 1 << 20

// Finalize reads a fragmented MP4 written by Writer (or cut short by a crash: only its
// complete fragments are used) and writes a regular MP4 (ftyp, moov, mdat; moov first) to dst
// through a temporary file in the same directory, fsynced and renamed into place. dst gets the
// fragmented file's permissions: the spool's file mode carries over.
func Finalize(fragmentedPath, dstPath string) (Stats, error) {
	st, err := finalize(fragmentedPath, dstPath)
	if err != nil {
		return Stats{}, fmt.Errorf("mp4: finalize %s: %w", fragmentedPath, err)
	}
	return st, nil
}

func finalize(fragmentedPath, dstPath string) (Stats, error) {
	src, err := os.Open(fragmentedPath)
	if err != nil {
		return Stats{}, err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return Stats{}, err
	}
	ff, err := parseFragmented(src, fi.Size())
	if err != nil {
		return Stats{}, err
	}
	dir := filepath.Dir(dstPath)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dstPath)+".tmp*")
	if err != nil {
		return Stats{}, err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	st, err := ff.writeTo(tmp, src)
	if err != nil {
		return Stats{}, err
	}
	if err = tmp.Chmod(fi.Mode().Perm()); err != nil { // CreateTemp makes it private
		return Stats{}, err
	}
	if err = tmp.Sync(); err != nil {
		return Stats{}, fmt.Errorf("fsync: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return Stats{}, err
	}
	if err = os.Rename(tmp.Name(), dstPath); err != nil {
		return Stats{}, err
	}
	ok = true
	// The rename is durable only once the directory is.
	d, err := os.Open(dir)
	if err != nil {
		return st, err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return st, fmt.Errorf("fsync dir: %w", err)
	}
	return st, nil
}

// outFile is where the final MP4 goes: positional writes, so runs of zero bytes can be left as
// holes, and Truncate to give the file its size when it ends in one.
type outFile interface {
	io.WriterAt
	Truncate(size int64) error
}

// writeTo lays the final file out (ftyp, moov, mdat, chunks in fragment order) and writes it.
func (ff *fragFile) writeTo(dst outFile, src io.ReaderAt) (Stats, error) {
	var st Stats
	b := appendFtyp(nil)
	ftypLen := len(b)
	// The moov size depends only on stco vs co64, not on the offsets in it.
	ff.layout(0)
	moov, err := ff.marshalMoov(b, false)
	if err != nil {
		return st, err
	}
	start := int64(len(moov)) + int64(mdatHeaderSize(uint64(ff.total)))
	use64 := ff.layout(start) > math.MaxUint32
	if use64 {
		moov, err = ff.marshalMoov(b, true)
		if err != nil {
			return st, err
		}
		start = int64(len(moov)) + int64(mdatHeaderSize(uint64(ff.total)))
		ff.layout(start)
	}
	moov, err = ff.marshalMoov(moov[:ftypLen], use64)
	if err != nil {
		return st, err
	}
	b = appendMdatHeader(moov, uint64(ff.total))
	if int64(len(b)) != start {
		return st, errors.New("layout mismatch")
	}
	if _, err = dst.WriteAt(b, 0); err != nil {
		return st, fmt.Errorf("write header: %w", err)
	}
	end, err := ff.copyRuns(dst, src, start)
	if err != nil {
		return st, err
	}
	if err := dst.Truncate(end); err != nil {
		return st, fmt.Errorf("size output: %w", err)
	}
	st.Bytes = end
	for _, t := range ff.tracks {
		switch {
		case t.video:
			st.VideoFrames += int64(len(t.sizes))
		case t.audio:
			st.AudioFrames += int64(len(t.sizes))
		}
		if len(t.sizes) > 0 && t.nextDTS <= math.MaxInt64 {
			st.Duration = max(st.Duration, media.FromTimescale(int64(t.nextDTS), int64(t.timescale)))
		}
	}
	return st, nil
}

// layout gives every chunk its offset in the final file, the payload starting at start, and
// returns the largest offset.
func (ff *fragFile) layout(start int64) uint64 {
	for _, t := range ff.tracks {
		t.offsets = t.offsets[:0]
	}
	pos := uint64(start)
	var last uint64
	for _, r := range ff.runs {
		t := ff.tracks[r.track]
		t.offsets = append(t.offsets, pos)
		last = pos
		pos += uint64(r.size)
	}
	return last
}

// copyRuns streams the sample data of every run, in order, to dst from start on, through a
// bounded buffer. Holes of a sparse source stay holes (a spool a crash left sparse, or the
// sparse 4 GiB test file). It returns the end.
func (ff *fragFile) copyRuns(dst io.WriterAt, src io.ReaderAt, start int64) (int64, error) {
	buf := make([]byte, min(max(ff.total, 1), copyBufSize))
	pos := start
	for i := 0; i < len(ff.runs); {
		// Coalesce runs adjacent in the source: they are adjacent in the output too.
		off, n := ff.runs[i].src, ff.runs[i].size
		for i++; i < len(ff.runs) && ff.runs[i].src == off+n; i++ {
			n += ff.runs[i].size
		}
		for end := off + n; off < end; {
			d, stop := nextData(src, off, end)
			pos += d - off // skip a hole
			for off = d; off < stop; {
				k := min(stop-off, int64(len(buf)))
				if _, err := src.ReadAt(buf[:k], off); err != nil {
					return 0, fmt.Errorf("read samples at %d: %w", off, err)
				}
				if _, err := dst.WriteAt(buf[:k], pos); err != nil {
					return 0, fmt.Errorf("write samples: %w", err)
				}
				off, pos = off+k, pos+k
			}
		}
	}
	return pos, nil
}

// appendFtyp appends the final file's ftyp (ISO 14496-12 §4.3).
func appendFtyp(b []byte) []byte {
	b, box := startBox(b, "ftyp")
	b = append(b, "isom"...)
	b = be32(b, 0x200)
	b = append(b, "isomiso2mp41"...)
	b, _ = endBox(b, box)
	return b
}

// rescale converts v ticks of clock from to clock to, rounding up when up is set, else to
// nearest. ok is false on overflow.
func rescale(v uint64, from, to uint32, up bool) (uint64, bool) {
	hi, lo := bits.Mul64(v, uint64(to))
	add := uint64(from) / 2
	if up {
		add = uint64(from) - 1
	}
	lo, carry := bits.Add64(lo, add, 0)
	hi += carry
	if hi >= uint64(from) {
		return 0, false
	}
	q, _ := bits.Div64(hi, lo, uint64(from))
	return q, true
}
