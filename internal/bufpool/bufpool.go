// Package bufpool shares byte buffers between streams in power-of-two size classes.
package bufpool

import (
	"math/bits"
	"sync"
)

// Muxer and socket read buffers come from pools shared by all streams, in power-of-two size
// classes: a stream needs a fragment's or an access unit's worth of buffer only while it writes
// an ingest batch, and a read buffer only during a read round, so memory grows with the streams
// busy at the same moment, not with the streams recorded.
// Buffers past the largest class (a huge keyframe) are not pooled, so a rare burst does not
// stay in the pools.
const (
	MinShift = 8  // 256 B: an AAC frame, a small moof
	MaxShift = 21 // 2 MiB: a 512 KiB fragment with a large keyframe
)

var pools [MaxShift - MinShift + 1]sync.Pool

// Buf holds a pooled slice; pooling the holder instead of the slice keeps Put allocation-free.
type Buf struct{ B []byte }

// Get returns an empty buffer with room for at least n bytes.
func Get(n int) *Buf {
	shift := MinShift
	if n > 1<<MinShift {
		shift = bits.Len(uint(n - 1))
	}
	if shift > MaxShift {
		return &Buf{B: make([]byte, 0, n)}
	}
	if p, _ := pools[shift-MinShift].Get().(*Buf); p != nil {
		return p
	}
	return &Buf{B: make([]byte, 0, 1<<shift)}
}

// Put gives p (nil allowed) back to the class its capacity covers; the caller must not use
// it afterwards.
func Put(p *Buf) {
	if p == nil || cap(p.B) < 1<<MinShift || cap(p.B) > 1<<MaxShift {
		return
	}
	p.B = p.B[:0]
	pools[bits.Len(uint(cap(p.B)))-1-MinShift].Put(p)
}
