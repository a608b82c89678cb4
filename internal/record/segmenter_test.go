package record

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
)

// Tracks of the segmenter tests: hd and hd2 decode alike (a repeated sequence header, or a
// resumed publication), sd does not.
var (
	hd  = &media.Track{Codec: media.CodecH264, SPS: []byte{1}, PPS: []byte{1}, Width: 1280, Height: 720}
	hd2 = &media.Track{Codec: media.CodecH264, SPS: []byte{1}, PPS: []byte{1}, Width: 1280, Height: 720}
	sd  = &media.Track{Codec: media.CodecH264, SPS: []byte{2}, PPS: []byte{1}, Width: 640, Height: 360}
	aac = &media.Track{Codec: media.CodecAAC, AudioConfig: []byte{0x12, 0x08}}
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func vid(t int, key bool) media.Unit {
	return media.Unit{Track: hd, DTS: ms(t), PTS: ms(t), Keyframe: key, Data: []byte{1}}
}

func aud(t int) media.Unit { return media.Unit{Track: aac, DTS: ms(t), PTS: ms(t), Data: []byte{2}} }

// av is a publication's media from from to to (ms): a video frame every 40 ms on track v, a
// keyframe every gop ms, and an audio frame 20 ms after each video frame (none when a is nil).
func av(v, a *media.Track, from, to, gop int) []media.Unit {
	var out []media.Unit
	for t := from; t < to; t += 40 {
		if v != nil {
			out = append(out, media.Unit{Track: v, DTS: ms(t), PTS: ms(t), Keyframe: (t-from)%gop == 0, Data: []byte{1}})
		}
		if a != nil {
			out = append(out, media.Unit{Track: a, DTS: ms(t + 20), PTS: ms(t + 20), Data: []byte{2}})
		}
	}
	return out
}

// segFile is a file as the decisions built it.
type segFile struct {
	format       string
	seq          int
	start        time.Duration
	wall         time.Duration // from the first publication's start
	video, audio int
	seams        int
	sawVideo     bool
	last         map[*media.Track]time.Duration
	completed    bool
}

func (f *segFile) String() string {
	s := fmt.Sprintf("%s#%d@%d %dv %da", f.format, f.seq, f.start.Milliseconds(), f.video, f.audio)
	if f.seams > 0 {
		s += fmt.Sprintf(" %d seam", f.seams)
	}
	if f.wall != f.start { // a file after a pause: its recording time is not its wall time
		s += fmt.Sprintf(" at +%d", f.wall.Milliseconds())
	}
	return s
}

// segRun applies a Segmenter's decisions to files that only count what they get, and notes the
// decisions that are not writes as events.
type segRun struct {
	t         *testing.T
	seg       *Segmenter
	names     []string
	t0, now   time.Time
	files     []*segFile
	cur, prev []*segFile
	events    []string
}

func (r *segRun) apply(ops []Op) {
	r.t.Helper()
	for _, op := range ops {
		var name string
		if op.Kind != OpPaused && op.Kind != OpResumed && op.Kind != OpUnpaused && op.Kind != OpContinued &&
			op.Kind != OpNewParams && op.Kind != OpFlush {
			name = r.names[op.Format]
		}
		slot := r.cur
		if op.Slot == Prev {
			slot = r.prev
		}
		switch op.Kind {
		case OpOpen:
			require.Nil(r.t, r.cur[op.Format], "open over an open file")
			f := &segFile{format: name, seq: op.File.Seq, start: op.File.StartDTS, wall: op.File.StartWall.Sub(r.t0),
				last: map[*media.Track]time.Duration{}}
			r.files = append(r.files, f)
			r.cur[op.Format] = f
			r.events = append(r.events, fmt.Sprintf("+%s#%d@%d", name, f.seq, f.start.Milliseconds()))
		case OpWrite:
			f := slot[op.Format]
			require.NotNil(r.t, f, "write to no file")
			u := op.Unit
			require.GreaterOrEqual(r.t, u.DTS, f.start, "a unit before its file's start")
			if last, ok := f.last[u.Track]; ok {
				require.Greater(r.t, u.DTS, last, "a track's timestamps go back in %s", f)
			}
			f.last[u.Track] = u.DTS
			if u.Track.IsVideo() {
				require.Equal(r.t, Cur, op.Slot, "video into the previous file")
				if !f.sawVideo {
					require.True(r.t, u.Keyframe, "%s starts without a keyframe", f)
				}
				f.sawVideo = true
				f.video++
			} else {
				f.audio++
			}
		case OpShift:
			require.Nil(r.t, r.prev[op.Format], "shift over an open previous file")
			r.prev[op.Format], r.cur[op.Format] = r.cur[op.Format], nil
		case OpComplete:
			f := slot[op.Format]
			require.NotNil(r.t, f, "complete no file")
			f.completed = true
			slot[op.Format] = nil
			r.events = append(r.events, fmt.Sprintf("-%s#%d", name, f.seq))
		case OpSeam:
			r.cur[op.Format].seams++
			r.events = append(r.events, fmt.Sprintf("seam %s#%d", name, r.cur[op.Format].seq))
		case OpPaused:
			r.events = append(r.events, "paused")
		case OpResumed:
			r.events = append(r.events, "resumed")
		case OpUnpaused:
			r.events = append(r.events, "unpaused")
		case OpContinued:
			r.events = append(r.events, fmt.Sprintf("continued@%d", op.At.Milliseconds()))
		case OpNewParams:
			r.events = append(r.events, fmt.Sprintf("new params %dx%d", op.Unit.Track.Width, op.Unit.Track.Height))
		case OpExpired:
			r.events = append(r.events, "expired "+name)
		case OpFlush:
		default:
			r.t.Fatalf("unknown decision %d", op.Kind)
		}
	}
}

// A step of a segmenter test: what happens at wall time at (from the publication's start).
type segStep func(r *segRun)

func units(at time.Duration, batches ...[]media.Unit) segStep {
	return func(r *segRun) {
		r.now = r.t0.Add(at)
		for _, us := range batches {
			for i := range us {
				u := us[i]
				r.apply(r.seg.Unit(&u, r.now))
			}
		}
	}
}

func left(at time.Duration) segStep {
	return func(r *segRun) {
		r.now = r.t0.Add(at)
		r.events = append(r.events, "left")
		r.apply(r.seg.PublisherLeft(r.now))
	}
}

// back attaches a new publication at wall time at; its timestamps restart at 0.
func back(at time.Duration) segStep {
	return func(r *segRun) {
		r.now = r.t0.Add(at)
		r.events = append(r.events, "back")
		r.apply(r.seg.PublisherBack(r.now))
	}
}

func tick(at time.Duration) segStep {
	return func(r *segRun) {
		r.now = r.t0.Add(at)
		r.apply(r.seg.Tick(r.now))
	}
}

func cmd(at time.Duration, c recording.Command, want error) segStep {
	return func(r *segRun) {
		r.now = r.t0.Add(at)
		r.events = append(r.events, string(c))
		ops, err := r.seg.Command(c, r.now)
		require.ErrorIs(r.t, err, want, c)
		if want == nil {
			require.NoError(r.t, err, c)
		}
		r.apply(ops)
	}
}

// window is the wall-time window [from, to) after the publication's start in TestSegmenterCuts.
func window(from, to time.Duration) recording.TimeWindow {
	t0 := time.Unix(1_800_000_000, 0)
	return recording.TimeWindow{Start: t0.Add(from), End: t0.Add(to)}
}

// setPlan replaces the plan windows at wall time at; ok is what SetPlan must answer.
func setPlan(at time.Duration, ok bool, ws ...recording.TimeWindow) segStep {
	return func(r *segRun) {
		r.now = r.t0.Add(at)
		r.events = append(r.events, "plan")
		require.Equal(r.t, ok, r.seg.SetPlan(ws, r.now))
	}
}

// swapped returns units with those at i and j swapped (a publisher's loose interleaving).
func swapped(units []media.Unit, i, j int) []media.Unit {
	out := append([]media.Unit(nil), units...)
	out[i], out[j] = out[j], out[i]
	return out
}

// TestSegmenterCuts drives the Segmenter with media, pauses, resumes, ticks and commands and
// checks its decisions as the files and events they make, with no file and no goroutine:
// cycles cut on keyframes (audio frames without video), late audio joins the file before
// the cut, lead-in audio the file after it, new parameters cut at once, pauses keep files
// open for their merge windows and resumes continue their timeline, and plan and manual
// recordings write only inside their windows.
func TestSegmenterCuts(t *testing.T) {
	flv := func(cycle, window int) recording.FormatConfig {
		return recording.FormatConfig{Format: recording.FormatFLV, CycleS: cycle, MergeWindowS: window}
	}
	mp4 := func(cycle, window int) recording.FormatConfig {
		return recording.FormatConfig{Format: recording.FormatMP4, CycleS: cycle, MergeWindowS: window}
	}
	s := time.Second
	second := av(hd2, aac, 0, 2000, 1000)[1:] // a resumed publication: new tracks, from 0, no keyframe first
	plan := func(from, to time.Duration) func(*recording.Rule) {
		return func(r *recording.Rule) {
			r.Mode = recording.ModePlan
			start, end := time.Unix(1_800_000_000, 0).Add(from), time.Unix(1_800_000_000, 0).Add(to)
			r.StartTime, r.EndTime = &start, &end
		}
	}
	manual := func(r *recording.Rule) { r.Mode = recording.ModeManual }
	tasks := func(ws ...recording.TimeWindow) func(*recording.Rule) {
		return func(r *recording.Rule) {
			r.Mode, r.PlanWindows = recording.ModePlan, append([]recording.TimeWindow{}, ws...)
		}
	}
	for _, tc := range []struct {
		name    string
		formats []recording.FormatConfig
		rule    func(*recording.Rule)
		tracks  media.Tracks
		steps   []segStep
		files   []string
		events  []string
	}{{
		name:    "cycles end files at the first keyframe at or after the cycle",
		formats: []recording.FormatConfig{flv(4, 0)},
		steps:   []segStep{units(0, av(hd, aac, 0, 10000, 2000))},
		files:   []string{"flv#0@0 100v 100a", "flv#1@4000 100v 100a", "flv#2@8000 50v 50a"},
		// The file before a cut takes the audio of the cut's frame interval, then completes.
		events: []string{"+flv#0@0", "+flv#1@4000", "-flv#0", "+flv#2@8000", "-flv#1", "-flv#2"},
	}, {
		name:    "a cycle that is no multiple of the GOP waits for the next keyframe",
		formats: []recording.FormatConfig{flv(5, 0), mp4(0, 0)},
		steps:   []segStep{units(0, av(hd, aac, 0, 10000, 2000))},
		files:   []string{"flv#0@0 150v 150a", "mp4#0@0 250v 250a", "flv#1@6000 100v 100a"},
		events:  []string{"+flv#0@0", "+mp4#0@0", "+flv#1@6000", "-flv#0", "-flv#1", "-mp4#0"},
	}, {
		name:    "audio older than a cut that comes after its keyframe goes to the file before it",
		formats: []recording.FormatConfig{flv(4, 0)},
		// a3980 (unit 199) arrives after V4000 (unit 200).
		steps:  []segStep{units(0, swapped(av(hd, aac, 0, 8000, 2000), 199, 200))},
		files:  []string{"flv#0@0 100v 100a", "flv#1@4000 100v 100a"},
		events: []string{"+flv#0@0", "+flv#1@4000", "-flv#0", "-flv#1"},
	}, {
		name:    "audio only: files are cut on audio frames",
		formats: []recording.FormatConfig{flv(4, 0)},
		tracks:  media.Tracks{Audio: aac},
		steps:   []segStep{units(0, av(nil, aac, -20, 9980, 2000))},
		files:   []string{"flv#0@0 0v 100a", "flv#1@4000 0v 100a", "flv#2@8000 0v 50a"},
		events:  []string{"+flv#0@0", "+flv#1@4000", "-flv#0", "+flv#2@8000", "-flv#1", "-flv#2"},
	}, {
		name:    "video only: a cut completes the file at once",
		formats: []recording.FormatConfig{flv(4, 0)},
		tracks:  media.Tracks{Video: hd},
		steps:   []segStep{units(0, av(hd, nil, 0, 8000, 2000))},
		files:   []string{"flv#0@0 100v 0a", "flv#1@4000 100v 0a"},
		events:  []string{"+flv#0@0", "-flv#0", "+flv#1@4000", "-flv#1"},
	}, {
		name:    "audio up to 50 ms before the first keyframe leads the file in; older audio is dropped",
		formats: []recording.FormatConfig{flv(0, 0)},
		steps:   []segStep{units(0, []media.Unit{aud(0), aud(30), aud(60), aud(90), vid(100, true), aud(120), vid(140, false)})},
		files:   []string{"flv#0@60 2v 3a"},
		events:  []string{"+flv#0@60", "-flv#0"},
	}, {
		name:    "new parameters complete the files at once; the next start at the new track's keyframe",
		formats: []recording.FormatConfig{flv(0, 0)},
		steps:   []segStep{units(0, av(hd, aac, 0, 2000, 1000), av(sd, aac, 2000, 4000, 1000))},
		files:   []string{"flv#0@0 50v 50a", "flv#1@2000 50v 50a"},
		events:  []string{"+flv#0@0", "new params 640x360", "-flv#0", "+flv#1@2000", "-flv#1"},
	}, {
		name:    "a new track with the same parameters continues the file",
		formats: []recording.FormatConfig{flv(0, 0)},
		steps:   []segStep{units(0, av(hd, aac, 0, 2000, 1000), av(hd2, aac, 2000, 4000, 1000))},
		files:   []string{"flv#0@0 100v 100a"},
		events:  []string{"+flv#0@0", "-flv#0"},
	}, {
		name:    "a pause keeps the file open; the resume continues it at its next keyframe, without the gap",
		formats: []recording.FormatConfig{flv(0, 60)},
		// The second publication's first keyframe (its 1000) lands one frame step after the
		// last frame written (audio 1980 + 40).
		steps:  []segStep{units(0, av(hd, aac, 0, 2000, 1000)), left(10 * s), back(20 * s), units(20*s, second)},
		files:  []string{"flv#0@0 75v 75a 1 seam"},
		events: []string{"+flv#0@0", "left", "paused", "back", "resumed", "seam flv#0", "continued@2020", "-flv#0"},
	}, {
		name:    "each format keeps its own merge window: W = 0 completes at the pause, the resume opens a new file",
		formats: []recording.FormatConfig{flv(0, 0), mp4(0, 60)},
		steps:   []segStep{units(0, av(hd, aac, 0, 2000, 1000)), left(10 * s), back(20 * s), units(20*s, second)},
		files:   []string{"flv#0@0 50v 50a", "mp4#0@0 75v 75a 1 seam", "flv#1@2020 25v 25a at +21000"},
		events: []string{"+flv#0@0", "+mp4#0@0", "left", "-flv#0", "paused", "back", "resumed", "seam mp4#0",
			"continued@2020", "+flv#1@2020", "-flv#1", "-mp4#0"},
	}, {
		name:    "without a merge window a new publication starts new files on its own timeline",
		formats: []recording.FormatConfig{flv(0, 0)},
		steps:   []segStep{units(0, av(hd, aac, 0, 2000, 1000)), left(10 * s), back(20 * s), units(20*s, av(hd2, aac, 0, 2000, 1000))},
		files:   []string{"flv#0@0 50v 50a", "flv#1@0 50v 50a at +20000"},
		events:  []string{"+flv#0@0", "left", "-flv#0", "back", "+flv#1@0", "-flv#1"},
	}, {
		name:    "the merge window expires on the tick that reaches it",
		formats: []recording.FormatConfig{flv(0, 1)},
		steps:   []segStep{units(0, av(hd, aac, 0, 2000, 1000)), left(10 * s), tick(10*s + 999*time.Millisecond), tick(11 * s)},
		files:   []string{"flv#0@0 50v 50a"},
		events:  []string{"+flv#0@0", "left", "paused", "expired flv", "-flv#0", "unpaused"},
	}, {
		name:    "manual: idle until start; stop pauses once the media before it is written; start resumes; cancel_delay completes",
		formats: []recording.FormatConfig{flv(0, 60)},
		rule:    manual,
		steps: []segStep{
			units(0, av(hd, aac, 0, 1000, 500)),
			cmd(1*s, recording.CommandStop, recording.ErrCommandState),
			cmd(1*s, recording.CommandStart, nil),
			cmd(1*s, recording.CommandStart, recording.ErrCommandState),
			units(1*s, av(hd, aac, 1000, 3000, 500)),
			cmd(3*s, recording.CommandStop, nil),
			units(3*s, av(hd, aac, 3000, 4000, 500)),
			cmd(4*s, recording.CommandStartAfterGap, recording.ErrCommandTooSoon),
			cmd(4*s, recording.CommandStart, nil),
			units(4*s, av(hd, aac, 4000, 5000, 500)),
			cmd(5*s, recording.CommandStop, nil),
			cmd(5*s, recording.CommandCancelDelay, nil),
			units(5*s, av(hd, aac, 5000, 6000, 500)),
			cmd(6*s, recording.CommandRestart, nil),
			units(6*s, av(hd, aac, 6000, 7000, 500)),
		},
		// restart keeps the timeline: the resume's offset still applies.
		files: []string{"flv#0@1000 75v 75a 1 seam", "flv#1@5020 25v 25a at +6000"},
		events: []string{"stop", "start", "start", "+flv#0@1000", "stop", "paused", "start_after_gap", "start",
			"resumed", "seam flv#0", "continued@3020", "stop", "cancel_delay", "-flv#0", "restart", "+flv#1@5020", "-flv#1"},
	}, {
		name:    "plan: files only inside the window, from its first keyframe to the first frame past its end",
		formats: []recording.FormatConfig{flv(0, 0)},
		rule:    plan(2*s, 4*s),
		steps: []segStep{
			units(0, av(hd, aac, 40, 2000, 500)), tick(2 * s), units(2*s, av(hd, aac, 2000, 4000, 500)),
			tick(4 * s), units(4*s, av(hd, aac, 4000, 5000, 500)),
		},
		files:  []string{"flv#0@2000 50v 50a"},
		events: []string{"+flv#0@2000", "-flv#0"},
	}, {
		name:    "plan tasks: a file per task window",
		formats: []recording.FormatConfig{flv(0, 0)},
		rule:    tasks(window(2*s, 4*s), window(6*s, 8*s)),
		steps: []segStep{
			units(0, av(hd, aac, 40, 2000, 500)), tick(2 * s), units(2*s, av(hd, aac, 2000, 4000, 500)),
			tick(4 * s), units(4*s, av(hd, aac, 4000, 6000, 500)), tick(6 * s), units(6*s, av(hd, aac, 6000, 8000, 500)),
			tick(8 * s), units(8*s, av(hd, aac, 8000, 9000, 500)),
		},
		files:  []string{"flv#0@2000 50v 50a", "flv#1@6000 50v 50a"},
		events: []string{"+flv#0@2000", "-flv#0", "+flv#1@6000", "-flv#1"},
	}, {
		name:    "plan tasks: no window waits idle; a window set while live records",
		formats: []recording.FormatConfig{flv(0, 0)},
		rule:    tasks(),
		steps: []segStep{
			units(0, av(hd, aac, 40, 2000, 500)), setPlan(2*s, true, window(3*s, 5*s)),
			units(2*s, av(hd, aac, 2000, 3000, 500)), tick(3 * s), units(3*s, av(hd, aac, 3000, 5000, 500)),
			tick(5 * s), units(5*s, av(hd, aac, 5000, 6000, 500)),
		},
		files:  []string{"flv#0@3000 50v 50a"},
		events: []string{"plan", "+flv#0@3000", "-flv#0"},
	}, {
		name:    "plan tasks: a window taken away while recording ends the file",
		formats: []recording.FormatConfig{flv(0, 0)},
		rule:    tasks(window(0, 10*s)),
		steps: []segStep{
			units(0, av(hd, aac, 0, 2000, 500)), setPlan(2*s, true), units(2*s, av(hd, aac, 2000, 3000, 500)),
		},
		files:  []string{"flv#0@0 50v 50a"},
		events: []string{"+flv#0@0", "plan", "-flv#0"},
	}, {
		name:    "plan windows cannot be set outside plan mode",
		formats: []recording.FormatConfig{flv(0, 0)},
		steps:   []segStep{units(0, av(hd, aac, 0, 1000, 500)), setPlan(time.Second, false, window(0, s))},
		files:   []string{"flv#0@0 25v 25a"},
		events:  []string{"+flv#0@0", "plan", "-flv#0"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rule := recording.Rule{Formats: tc.formats}
			if tc.rule != nil {
				tc.rule(&rule)
			}
			tracks := tc.tracks
			if tracks == (media.Tracks{}) {
				tracks = media.Tracks{Video: hd, Audio: aac}
			}
			t0 := time.Unix(1_800_000_000, 0)
			r := &segRun{t: t, seg: NewSegmenter(&rule, tracks, t0, t0), t0: t0,
				cur: make([]*segFile, len(tc.formats)), prev: make([]*segFile, len(tc.formats))}
			for _, fc := range tc.formats {
				r.names = append(r.names, string(fc.Format))
			}
			for _, step := range tc.steps {
				step(r)
			}
			r.apply(r.seg.End())
			require.False(t, r.seg.HasOpenFiles())
			var files []string
			for _, f := range r.files {
				require.True(t, f.completed, "%s not completed", f)
				files = append(files, f.String())
			}
			require.Equal(t, tc.files, files)
			require.Equal(t, tc.events, r.events)
		})
	}
}
