package ondemand

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// fakeCallbacks lists fixed configurations, or fails.
type fakeCallbacks struct {
	cs  []recording.CallbackConfig
	err error
}

func (f fakeCallbacks) CallbacksForStream(_ context.Context, domain string) ([]recording.CallbackConfig, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []recording.CallbackConfig
	for _, c := range f.cs {
		if c.Domain == domain {
			out = append(out, c)
		}
	}
	return out, nil
}

// ruleIn is threeFormats in project p with mode m.
func ruleIn(m recording.Mode) *recording.Rule {
	r := threeFormats()
	r.Project, r.Mode = "p", m
	return r
}

// pub1 is a publication of a.com/live/s1 (req1) with record_config rc.
func pub1(rc string) Publication { return Publication{Request: req1(), RecordConfig: rc} }

// formatsOf lists the formats a rule records.
func formatsOf(r *recording.Rule) []recording.Format {
	var out []recording.Format
	for _, f := range r.Formats {
		out = append(out, f.Format)
	}
	return out
}

// failures reads liverec_ondemand_failures_total and the number of latency observations.
func failures(t *testing.T, reg *prometheus.Registry) (failed float64, observed int) {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		switch mf.GetName() {
		case "liverec_ondemand_failures_total":
			failed = mf.GetMetric()[0].GetCounter().GetValue()
		case "liverec_ondemand_decision_seconds":
			observed = int(mf.GetMetric()[0].GetHistogram().GetSampleCount())
		}
	}
	return failed, observed
}

func TestDecideAutoAndManualRecordWithTheRule(t *testing.T) {
	t.Parallel()
	for _, m := range []recording.Mode{recording.ModeAuto, recording.ModeManual} {
		rule := ruleIn(m)
		d := Decider{Callbacks: fakeCallbacks{err: errors.New("not asked")}}
		got := d.Decide(context.Background(), rule, pub1(""))
		require.Equal(t, Decision{Rule: rule}, got, m)
	}
}

func TestDecidePlan(t *testing.T) {
	t.Parallel()
	rule := ruleIn(recording.ModePlan)
	end := *rule.EndTime
	at := func(now time.Time) Decision {
		d := Decider{Now: func() time.Time { return now }}
		return d.Decide(context.Background(), rule, pub1(""))
	}
	// Before the window too: the recorder waits for its start.
	require.Equal(t, Decision{Rule: rule}, at(rule.StartTime.Add(-time.Hour)))
	require.Equal(t, Decision{Rule: rule}, at(end.Add(-time.Nanosecond)))
	require.Equal(t, Decision{Reason: "the plan window is over"}, at(end))
	require.Equal(t, Decision{Reason: "the plan window is over"}, at(end.Add(time.Hour)))

	noEnd := *rule
	noEnd.EndTime = nil
	d := Decider{}
	require.Equal(t, Decision{Reason: "the plan window is over"}, d.Decide(context.Background(), &noEnd, pub1("")))
}

// fakeTasks answers TasksForStream with its tasks that have not ended at now, or err.
type fakeTasks struct {
	tasks []recording.PlanTask
	err   error
	asked string
}

func (f *fakeTasks) TasksForStream(_ context.Context, domain, app, stream string, now time.Time) ([]recording.PlanTask, error) {
	f.asked = domain + "/" + app + "/" + stream
	var out []recording.PlanTask
	for _, t := range f.tasks {
		if t.EndTime.After(now) {
			out = append(out, t)
		}
	}
	return out, f.err
}

func TestDecidePlanTasks(t *testing.T) {
	t.Parallel()
	rule := ruleIn(recording.ModePlan)
	rule.StartTime, rule.EndTime = nil, nil // a Huawei PLAN_RECORD rule: windows come from tasks
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	first := recording.PlanTask{Project: "p", StartTime: now.Add(time.Hour), EndTime: now.Add(2 * time.Hour)}
	second := recording.PlanTask{Project: "p", StartTime: now.Add(3 * time.Hour), EndTime: now.Add(4 * time.Hour)}
	others := recording.PlanTask{Project: "q", StartTime: now, EndTime: now.Add(5 * time.Hour)}
	tasks := &fakeTasks{tasks: []recording.PlanTask{others, first, second}}
	at := func(rule *recording.Rule, now time.Time) Decision {
		d := Decider{Now: func() time.Time { return now }, Tasks: tasks}
		return d.Decide(context.Background(), rule, pub1(""))
	}
	window := func(t recording.PlanTask) recording.TimeWindow {
		return recording.TimeWindow{Start: t.StartTime, End: t.EndTime}
	}
	got := at(rule, now)
	require.NotNil(t, got.Rule)
	require.Equal(t, []recording.TimeWindow{window(first), window(second)}, got.Rule.PlanWindows)
	require.Nil(t, rule.PlanWindows, "the stored rule is not changed")
	require.Equal(t, pub1("").Domain+"/"+pub1("").App+"/"+pub1("").Stream, tasks.asked)

	got = at(rule, first.EndTime) // the first window is over
	require.Equal(t, []recording.TimeWindow{window(second)}, got.Rule.PlanWindows)

	// No task left: a rule without a window of its own still records, idle until a task comes.
	got = at(rule, second.EndTime)
	require.NotNil(t, got.Rule)
	require.Empty(t, got.Rule.PlanWindows)
	require.NotNil(t, got.Rule.PlanWindows)

	// A rule with its own window keeps it when no task is left.
	own := ruleIn(recording.ModePlan)
	ownStart, ownEnd := now.Add(5*time.Hour), now.Add(6*time.Hour)
	own.StartTime, own.EndTime = &ownStart, &ownEnd
	require.Equal(t, Decision{Rule: own}, at(own, second.EndTime))
	require.Equal(t, Decision{Reason: "the plan window is over"}, at(own, own.EndTime.Add(time.Hour)))
	got = at(own, now)
	require.Equal(t, []recording.TimeWindow{window(first), window(second)}, got.Rule.PlanWindows,
		"tasks add to the rule's own window")

	tasks.err = errors.New("database down") // falls back to the rule's own (absent) window
	require.Equal(t, Decision{Reason: "the plan window is over"}, at(rule, now))
}

func TestDecideParam(t *testing.T) {
	t.Parallel()
	rule := ruleIn(recording.ModeOnDemandParam)
	cases := []struct {
		name, rc string
		formats  []recording.Format // nil: not recorded
		reason   string
		failed   bool
	}{
		{"Absent", "", nil, "no record_config ingest parameter", false},
		{"Yes", `{"NeedRecord":true}`, []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS}, "", false},
		{"URLEncodedWithFormat", "%7B%22NeedRecord%22%3Atrue%2C%22Format%22%3A%5B%22mp4%22%5D%7D",
			[]recording.Format{recording.FormatMP4}, "", false},
		{"No", `{"NeedRecord":false}`, nil, "the decision said NeedRecord false", false},
		{"NoFormatOfTheRule", `{"NeedRecord":true,"Format":["aac"]}`, nil, "no format of the decision is in the rule", false},
		{"Invalid", `{"NeedRecord":`, nil, "record_config: on-demand decision failed: invalid", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			d := Decider{Metrics: NewMetrics(reg)}
			got := d.Decide(context.Background(), rule, pub1(tc.rc))
			require.Equal(t, tc.failed, got.Failed)
			failed, observed := failures(t, reg)
			require.Zero(t, observed, "no server asked")
			if tc.failed {
				require.Equal(t, 1.0, failed)
			} else {
				require.Zero(t, failed)
			}
			if tc.formats == nil {
				require.Nil(t, got.Rule)
				require.True(t, strings.HasPrefix(got.Reason, tc.reason), got.Reason)
				return
			}
			require.Empty(t, got.Reason)
			require.Equal(t, tc.formats, formatsOf(got.Rule))
			require.Equal(t, threeFormats().Formats, rule.Formats, "the rule is not mutated")
		})
	}
}

func TestDecideHTTP(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		switch r.URL.Path {
		case "/yes":
			_, _ = io.WriteString(w, `{"NeedRecord":true,"Format":["flv"],"Interval":{"Flv":60}}`)
		case "/no":
			_, _ = io.WriteString(w, `{"NeedRecord":false}`)
		default:
			http.Error(w, "no", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	conf := func(project, app, path string) recording.CallbackConfig {
		return recording.CallbackConfig{Project: project, Dialect: recording.DialectAliyun, Domain: "a.com", App: app,
			OnDemandURL: srv.URL + path}
	}
	noURL := conf("p", "live", "")
	noURL.OnDemandURL, noURL.Dialect, noURL.URL = "", recording.DialectHuawei, srv.URL+"/notify"
	rule := ruleIn(recording.ModeOnDemandHTTP)
	cases := []struct {
		name    string
		cs      fakeCallbacks
		cycles  map[recording.Format]int // nil: not recorded
		reason  string
		failed  bool
		asked   string // path asked, "" for none
		latency bool
	}{
		{"Yes", fakeCallbacks{cs: []recording.CallbackConfig{conf("p", "*", "/yes")}},
			map[recording.Format]int{recording.FormatFLV: 60}, "", false, "/yes", true},
		{"ExactAppBeatsWildcard", fakeCallbacks{cs: []recording.CallbackConfig{conf("p", "*", "/yes"), conf("p", "live", "/no")}},
			nil, "the decision said NeedRecord false", false, "/no", true},
		{"WithoutURLIgnored", fakeCallbacks{cs: []recording.CallbackConfig{conf("p", "*", "/yes"), noURL}},
			map[recording.Format]int{recording.FormatFLV: 60}, "", false, "/yes", true},
		{"OtherProjectIgnored", fakeCallbacks{cs: []recording.CallbackConfig{conf("q", "live", "/yes")}},
			nil, "no on-demand URL is configured for the stream", false, "", false},
		{"LookUpFails", fakeCallbacks{err: errors.New("database down")},
			nil, "no on-demand URL is configured for the stream", false, "", false},
		{"ServerFails", fakeCallbacks{cs: []recording.CallbackConfig{conf("p", "live", "/fail")}},
			// The reason repeats the prefix: Error() has it too (as before the Decider).
			nil, "on-demand decision failed: status (http 500)", true, "/fail", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			asked = nil
			mu.Unlock()
			reg := prometheus.NewRegistry()
			d := Decider{Callbacks: tc.cs, Asker: &Asker{Timeout: 5 * time.Second}, Metrics: NewMetrics(reg)}
			got := d.Decide(context.Background(), rule, pub1(""))
			require.Equal(t, tc.reason, got.Reason)
			require.Equal(t, tc.failed, got.Failed)
			if tc.cycles == nil {
				require.Nil(t, got.Rule)
			} else {
				require.Equal(t, tc.cycles, cycles(got.Rule))
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.asked == "" {
				require.Empty(t, asked)
			} else {
				require.Equal(t, []string{tc.asked + "?app=live&domain=a.com&stream=s1&vbitrate=2000&codec=h264"}, asked)
			}
			failed, observed := failures(t, reg)
			require.Equal(t, map[bool]float64{true: 1}[tc.failed], failed)
			require.Equal(t, map[bool]int{true: 1}[tc.latency], observed)
		})
	}
}

func TestDecideNilMetricsAndAsker(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"NeedRecord":true}`)
	}))
	t.Cleanup(srv.Close)
	d := Decider{Callbacks: fakeCallbacks{cs: []recording.CallbackConfig{{Project: "p", Domain: "a.com", App: "*",
		OnDemandURL: srv.URL}}}}
	got := d.Decide(context.Background(), ruleIn(recording.ModeOnDemandHTTP), pub1(""))
	require.Empty(t, got.Reason)
	require.Len(t, got.Rule.Formats, 3)
	got = d.Decide(context.Background(), ruleIn(recording.ModeOnDemandParam), pub1("{"))
	require.True(t, got.Failed)
}
