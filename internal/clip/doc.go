// Package clip builds what a user asks of stored HLS recordings over a time range: an index
// (an HLS VOD media playlist over the stored slices that overlap the range, Alibaba
// CreateLiveStreamRecordIndexFiles, Huawei record/indexes) and a clip (one MP4, moov first,
// cut on keyframes without transcoding, native POST /api/v1/clips).
//
// The package works on recording.Slice values and an Opener the caller provides: it knows
// nothing of the store, the buckets or URL signing, so the service layer decides which slices
// a range covers for a stream and how a slice is reached.
package clip
