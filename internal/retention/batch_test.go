package retention

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func TestCrashBetweenABatchsObjectsAndItsMarkIsFinishedOnce(t *testing.T) {
	fx := newFixture(t)
	var recs []*recording.Recording
	var keys [][]string
	for i := range 5 {
		rec, k := fx.recording(t, fmt.Sprintf("s%d", i), fx.now.Add(-time.Duration(5-i)*time.Hour))
		recs, keys = append(recs, rec), append(keys, k)
	}
	fx.marker.failAt = 2 // the second batch: recordings 2 and 3
	r := fx.retention(t, 4)

	n, _, err := r.Pass(t.Context())
	require.ErrorContains(t, err, "killed before the mark")
	require.Equal(t, 4, n, "the first batch was marked")
	require.Equal(t, []int{4, 4}, fx.marker.calls(), "one mark per batch")
	for i, rec := range recs {
		for _, k := range keys[i] {
			require.Equal(t, i == 4, fx.exists(k), "recording %d: %s", i, k)
		}
		want, events := recording.FileDeleted, 2
		if i >= 2 {
			want, events = recording.FileStored, 0
		}
		require.Equal(t, []recording.FileState{want, want}, fx.fileStates(t, rec.ID), "recording %d", i)
		require.Equal(t, events, fx.deletedEvents(t, rec.ID), "recording %d", i)
	}

	// The restart: a new Retention on the same store deletes the batch's objects again.
	fx.marker.failAt = 0
	n, _, err = fx.retention(t, 4).Pass(t.Context())
	require.NoError(t, err)
	require.Equal(t, 6, n)
	for i, rec := range recs {
		for _, k := range keys[i] {
			require.False(t, fx.exists(k), k)
		}
		require.Equal(t, []recording.FileState{recording.FileDeleted, recording.FileDeleted}, fx.fileStates(t, rec.ID))
		require.Equal(t, 2, fx.deletedEvents(t, rec.ID), "one file_deleted per file")
	}
	require.InDelta(t, 10, testutil.ToFloat64(fx.metrics.files.WithLabelValues("retention")), 0)
}

func TestABatchWithAFileDeletedMeanwhileIsMarkedFileByFile(t *testing.T) {
	fx := newFixture(t)
	a, _ := fx.recording(t, "a", fx.now.Add(-2*time.Hour))
	b, keysB := fx.recording(t, "b", fx.now.Add(-time.Hour))
	due, err := fx.db.RetentionDue(t.Context(), fx.rule.ID, fx.now, 0)
	require.NoError(t, err)
	require.Len(t, due, 4)
	// Someone else (the disk policy) deletes b's first file after the list was read.
	require.NoError(t, fx.marker.next.FilesDeleted(t.Context(), []store.DueFile{due[2]}, recording.DeleteRetention))
	d := &Deleter{Objects: fx.bucket, Slices: fx.db, Marker: fx.marker, Metrics: fx.metrics}

	n, bytes, err := d.Delete(t.Context(), due, recording.DeleteRetention)
	require.NoError(t, err)
	require.Equal(t, 3, n, "the file deleted meanwhile is not counted")
	require.Equal(t, int64(12), bytes)
	require.Equal(t, []int{4, 1, 1, 1, 1}, fx.marker.calls(), "the conflicting batch is retried file by file")
	for _, rec := range []*recording.Recording{a, b} {
		require.Equal(t, []recording.FileState{recording.FileDeleted, recording.FileDeleted}, fx.fileStates(t, rec.ID))
		require.Equal(t, 2, fx.deletedEvents(t, rec.ID), "one file_deleted per file")
	}
	for _, k := range keysB {
		require.False(t, fx.exists(k), k)
	}
	require.InDelta(t, 3, testutil.ToFloat64(fx.metrics.files.WithLabelValues("retention")), 0)
}

func TestAnObjectThatCannotBeDeletedStopsTheBatchAfterMarkingTheFilesBefore(t *testing.T) {
	fx := newFixture(t)
	rec, keys := fx.recording(t, "a", fx.now.Add(-time.Hour))
	due, err := fx.db.RetentionDue(t.Context(), fx.rule.ID, fx.now, 0)
	require.NoError(t, err)
	require.Len(t, due, 2)
	d := &Deleter{Objects: fx.bucket, Marker: fx.marker} // no Slices: the HLS file fails

	n, _, err := d.Delete(t.Context(), due, recording.DeleteRetention)
	require.ErrorContains(t, err, "list slices of file "+due[1].File.ID)
	require.Equal(t, 1, n)
	require.False(t, fx.exists(keys[0]))
	require.Equal(t, []recording.FileState{recording.FileDeleted, recording.FileStored}, fx.fileStates(t, rec.ID))
	require.Equal(t, 1, fx.deletedEvents(t, rec.ID))
}
