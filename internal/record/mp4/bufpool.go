package mp4

import (
	"math/bits"
	"sync"
)

// Writer buffers come from pools shared by all streams, in power-of-two size classes: a
// stream needs a fragment's worth of buffer only while it writes an ingest batch, and between
// batches holds just its held-back samples in buffers of about their size. So memory grows
// with the streams writing at the same moment, not with the streams recorded. Buffers past
// the largest class (a fragment with a huge keyframe) are not pooled, so a rare burst does not
// stay in the pools.
const (
	minBufShift = 8  // 256 B: an AAC frame, a small moof
	maxBufShift = 21 // 2 MiB: a 512 KiB fragment with a large keyframe
)

var bufPools [maxBufShift - minBufShift + 1]sync.Pool

// buf holds a pooled slice; pooling the holder instead of the slice keeps Put allocation-free.
type buf struct{ b []byte }

// getBuf returns an empty buffer with room for at least n bytes.
func getBuf(n int) *buf {
	shift := minBufShift
	if n > 1<<minBufShift {
		shift = bits.Len(uint(n - 1))
	}
	if shift > maxBufShift {
		return &buf{b: make([]byte, 0, n)}
	}
	if p, _ := bufPools[shift-minBufShift].Get().(*buf); p != nil {
		return p
	}
	return &buf{b: make([]byte, 0, 1<<shift)}
}

// putBuf gives p (nil allowed) back to the class its capacity covers; the caller must not use
// it afterwards.
func putBuf(p *buf) {
	if p == nil || cap(p.b) < 1<<minBufShift || cap(p.b) > 1<<maxBufShift {
		return
	}
	p.b = p.b[:0]
	bufPools[bits.Len(uint(cap(p.b)))-1-minBufShift].Put(p)
}
