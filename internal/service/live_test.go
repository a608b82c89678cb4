package service_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// fakeLive is a hub with fixed publications; Kick ends one and notes it.
type fakeLive struct {
	mu     sync.Mutex
	live   []recording.LiveStream
	kicked []string
}

func (f *fakeLive) LiveStreams() []recording.LiveStream {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recording.LiveStream(nil), f.live...)
}

func (f *fakeLive) Kick(domain, app, stream, reason string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, l := range f.live {
		if l.Domain == domain && l.App == app && l.Stream == stream {
			f.live = append(f.live[:i], f.live[i+1:]...)
			f.kicked = append(f.kicked, domain+"/"+app+"/"+stream+": "+reason)
			return true
		}
	}
	return false
}

// newLiveService is a service where alice owns a.com and bob b.com, each with a live stream.
func newLiveService(t *testing.T) (*service.Service, *fakeLive) {
	t.Helper()
	s := newService(t)
	ctx := t.Context()
	require.NoError(t, s.CreateRule(ctx, alice, newRule("a.com", "live", "")))
	require.NoError(t, s.CreateRule(ctx, bob, newRule("b.com", "live", "")))
	fl := &fakeLive{live: []recording.LiveStream{
		{Domain: "b.com", App: "live", Stream: "s1", VideoCodec: "H264"},
		{Domain: "a.com", App: "live", Stream: "s2", VideoCodec: "H265"},
		{Domain: "a.com", App: "live", Stream: "s1", VideoCodec: "H264"},
	}}
	s.Live = fl
	return s, fl
}

func streamKeys(ls []recording.LiveStream) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Domain+"/"+l.App+"/"+l.Stream)
	}
	return out
}

func TestListLiveStreams(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newLiveService(t)

	got, err := s.ListLiveStreams(ctx, alice, service.LiveFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"a.com/live/s1", "a.com/live/s2"}, streamKeys(got), "only the project's domains, sorted")

	got, err = s.ListLiveStreams(ctx, admin, service.LiveFilter{})
	require.NoError(t, err)
	require.Len(t, got, 3)

	got, err = s.ListLiveStreams(ctx, alice, service.LiveFilter{Domain: "A.COM", Stream: "s2"})
	require.NoError(t, err)
	require.Equal(t, []string{"a.com/live/s2"}, streamKeys(got))

	_, err = s.ListLiveStreams(ctx, alice, service.LiveFilter{Domain: "b.com"})
	require.ErrorIs(t, err, recording.ErrNotFound, "another project's domain does not exist for alice")

	st, err := s.StreamState(ctx, alice, "a.com", "live", "s1")
	require.NoError(t, err)
	require.Equal(t, "H264", st.VideoCodec)
	_, err = s.StreamState(ctx, alice, "a.com", "live", "gone")
	require.ErrorIs(t, err, recording.ErrNotLive)
}

func TestKickAndForbid(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, fl := newLiveService(t)
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	s.Now = c.now

	require.ErrorIs(t, s.KickStream(ctx, bob, "a.com", "live", "s1"), recording.ErrNotFound)
	require.NoError(t, s.KickStream(ctx, alice, "a.com", "live", "s1"))
	require.ErrorIs(t, s.KickStream(ctx, alice, "a.com", "live", "s1"), recording.ErrNotLive, "kicked: no longer live")
	require.NoError(t, s.KickStream(ctx, admin, "b.com", "live", "s1"), "an admin kicks any stream it sees")
	_, err := s.GetBlock(ctx, alice, "a.com", "live", "s1")
	require.ErrorIs(t, err, recording.ErrNotFound, "a kick does not block")

	resume := c.t.Add(time.Hour)
	kicked, err := s.ForbidStream(ctx, alice, recording.StreamBlock{Domain: "A.com", App: "live", Stream: "s2", ResumeAt: &resume})
	require.NoError(t, err)
	require.True(t, kicked)
	require.Contains(t, fl.kicked[len(fl.kicked)-1], "forbidden")
	b, err := s.GetBlock(ctx, alice, "a.com", "live", "s2")
	require.NoError(t, err)
	require.Equal(t, resume, *b.ResumeAt)

	kicked, err = s.ForbidStream(ctx, alice, recording.StreamBlock{Domain: "a.com", App: "live", Stream: "offline"})
	require.NoError(t, err, "a stream that is not live can be forbidden")
	require.False(t, kicked)

	past := c.t.Add(-time.Second)
	_, err = s.ForbidStream(ctx, alice, recording.StreamBlock{Domain: "a.com", App: "live", Stream: "x", ResumeAt: &past})
	requireValidation(t, err, "resume_at")
	_, err = s.ForbidStream(ctx, alice, recording.StreamBlock{Domain: "a.com", App: "*", Stream: "x"})
	requireValidation(t, err, "app")
	_, err = s.ForbidStream(ctx, bob, recording.StreamBlock{Domain: "a.com", App: "live", Stream: "x"})
	require.ErrorIs(t, err, recording.ErrNotFound)

	blocks, total, err := s.ListBlocks(ctx, alice, store.BlockFilter{})
	require.NoError(t, err)
	require.Equal(t, 2, total)
	require.Len(t, blocks, 2)
	blocks, _, err = s.ListBlocks(ctx, bob, store.BlockFilter{})
	require.NoError(t, err)
	require.Empty(t, blocks, "bob sees none of alice's blocks")

	c.t = resume // the timed block has ended by itself
	_, err = s.GetBlock(ctx, alice, "a.com", "live", "s2")
	require.ErrorIs(t, err, recording.ErrNotFound)

	require.NoError(t, s.ResumeStream(ctx, alice, "a.com", "live", "offline"))
	require.ErrorIs(t, s.ResumeStream(ctx, alice, "a.com", "live", "offline"), recording.ErrNotFound)
	require.ErrorIs(t, s.ResumeStream(ctx, bob, "a.com", "live", "s2"), recording.ErrNotFound)
}

func TestPlanTasks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newService(t)
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	s.Now = c.now
	require.NoError(t, s.CreateRule(ctx, alice, newRule("a.com", "live", "")))
	var changed []string
	s.OnPlanChanged = func(_ context.Context, project, domain, app, stream string) {
		changed = append(changed, project+":"+domain+"/"+app+"/"+stream)
	}
	task := func(start, end time.Duration) *recording.PlanTask {
		t := &recording.PlanTask{Domain: "a.com", App: "live", Stream: "s1", EndTime: c.t.Add(end)}
		if start != 0 {
			t.StartTime = c.t.Add(start)
		}
		return t
	}
	bad := []struct {
		name string
		t    *recording.PlanTask
	}{
		{"EndBeforeStart", task(2*time.Hour, time.Hour)},
		{"EndInThePast", task(-2*time.Hour, -time.Hour)},
		{"LongerThanADay", task(time.Hour, 26*time.Hour)},
		{"BeyondSevenDays", task(7*24*time.Hour, 7*24*time.Hour+time.Hour)},
	}
	for _, tc := range bad {
		requireValidation(t, s.CreatePlanTask(ctx, alice, tc.t), "end_time")
	}
	require.ErrorIs(t, s.CreatePlanTask(ctx, bob, task(0, time.Hour)), recording.ErrNotFound)

	now := task(0, time.Hour)
	require.NoError(t, s.CreatePlanTask(ctx, alice, now))
	require.True(t, strings.HasPrefix(now.ID, store.TaskPrefix))
	require.Equal(t, c.t, now.StartTime, "no start: now")
	require.NoError(t, s.CreatePlanTask(ctx, alice, task(2*time.Hour, 3*time.Hour)))

	tasks, total, err := s.ListPlanTasks(ctx, alice, store.TaskFilter{})
	require.NoError(t, err)
	require.Equal(t, 2, total)
	require.Len(t, tasks, 2)
	tasks, _, err = s.ListPlanTasks(ctx, bob, store.TaskFilter{})
	require.NoError(t, err)
	require.Empty(t, tasks)

	require.Equal(t, []string{"pa:a.com/live/s1", "pa:a.com/live/s1"}, changed, "a live recording hears of each new task")
	require.ErrorIs(t, s.StopPlanTask(ctx, bob, now.ID), recording.ErrNotFound)
	require.NoError(t, s.StopPlanTask(ctx, alice, now.ID))
	require.ErrorIs(t, s.StopPlanTask(ctx, alice, now.ID), recording.ErrNotFound, "stopped already")
	require.Len(t, changed, 3, "and of a stopped one, once")
}
