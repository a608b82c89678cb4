package ondemand

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Callbacks lists the callback configurations of a domain, of every project (store.Control's
// CallbacksForStream): the on-demand URL is taken from the one that matches the stream.
type Callbacks interface {
	CallbacksForStream(ctx context.Context, domain string) ([]recording.CallbackConfig, error)
}

// Tasks lists the plan tasks of a stream key that are not stopped and end after now
// (store.Catalog's TasksForStream), by start time.
type Tasks interface {
	TasksForStream(ctx context.Context, domain, app, stream string, now time.Time) ([]recording.PlanTask, error)
}

// Publication is what a decision knows of a new stream.
type Publication struct {
	// Request names the stream and is what an on_demand_http server is told of it.
	Request
	// RecordConfig is the record_config ingest parameter (on_demand_param); "" when absent.
	RecordConfig string
}

// Decision is the outcome of Decide.
type Decision struct {
	// Rule is the rule to record with; nil records nothing.
	Rule *recording.Rule
	// Reason says why nothing is recorded ("" when Rule is set).
	Reason string
	// Failed tells that the decision itself failed (the business server's answer, or a bad
	// record_config), which the API shows as an ondemand_failed event; a clear "no" or a
	// missing configuration is not a failure.
	Failed bool
}

// Decider applies a rule's mode to a new stream: auto and manual record with the rule,
// plan records while its window is open, on_demand_param follows the record_config ingest
// parameter and on_demand_http asks the business server of the stream's callback configuration.
// Decide may be called from many goroutines at once.
type Decider struct {
	// Callbacks gives the on-demand URL (recording.MatchCallback: an exact app beats "*").
	Callbacks Callbacks
	// Asker asks the business server; nil asks with a zero Asker (its defaults).
	Asker *Asker
	// Metrics counts decisions and their latency; nil counts nothing.
	Metrics *Metrics
	// Logger reports failed look-ups of the on-demand URL; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock that closes plan windows; nil means time.Now.
	Now func() time.Time
	// Tasks gives the plan tasks of a stream: a plan-mode stream with tasks records in the
	// window of its first one that has not ended; nil: the rule's own window only.
	Tasks Tasks
}

// Decide returns the rule to record a new stream with, or why not.
func (d *Decider) Decide(ctx context.Context, rule *recording.Rule, p Publication) Decision {
	switch rule.Mode {
	case recording.ModeAuto:
		return Decision{Rule: rule}
	case recording.ModePlan:
		// The recorder keeps itself inside the window; a window that is already over records
		// nothing.
		if r, ok := d.withTasks(ctx, rule, p.Request); ok {
			return Decision{Rule: r}
		}
		if rule.EndTime == nil || !d.now().Before(*rule.EndTime) {
			return Decision{Reason: "the plan window is over"}
		}
		return Decision{Rule: rule}
	case recording.ModeOnDemandParam:
		if p.RecordConfig == "" {
			return Decision{Reason: "no record_config ingest parameter"}
		}
		reply, err := ParseRecordConfig(p.RecordConfig)
		if err != nil {
			d.Metrics.failed()
			return Decision{Reason: "record_config: " + err.Error(), Failed: true}
		}
		return applyReply(rule, reply)
	case recording.ModeOnDemandHTTP:
		url := d.onDemandURL(ctx, rule.Project, p.Request)
		if url == "" {
			return Decision{Reason: "no on-demand URL is configured for the stream"}
		}
		start := time.Now()
		reply, err := d.Asker.Ask(ctx, url, p.Request)
		d.Metrics.observe(time.Since(start))
		if err != nil {
			d.Metrics.failed()
			return Decision{Reason: failedReason(err), Failed: true}
		}
		return applyReply(rule, reply)
	}
	// Manual mode: the recorder waits, idle, for a command (RealTimeRecordCommand,
	// record/control).
	return Decision{Rule: rule}
}

func applyReply(rule *recording.Rule, reply Reply) Decision {
	if !reply.NeedRecord {
		return Decision{Reason: "the decision said NeedRecord false"}
	}
	r := Apply(rule, reply)
	if r == nil {
		return Decision{Reason: "no format of the decision is in the rule"}
	}
	return Decision{Rule: r}
}

// withTasks returns the rule with the windows of the stream's plan tasks that have not ended
// (Rule.PlanWindows), when it has some or when the rule has no window of its own: such a rule
// (Huawei's PLAN_RECORD) records only in task windows, including those of tasks added while
// the stream is live, so its recording waits idle. A failed look-up falls back to the rule's
// own window (logged).
func (d *Decider) withTasks(ctx context.Context, rule *recording.Rule, r Request) (*recording.Rule, bool) {
	if d.Tasks == nil {
		return nil, false
	}
	tasks, err := d.Tasks.TasksForStream(ctx, r.Domain, r.App, r.Stream, d.now())
	if err != nil {
		if d.Logger != nil {
			d.Logger.Error("look up plan tasks", "err", err)
		}
		return nil, false
	}
	ws := Windows(tasks, rule.Project)
	if len(ws) == 0 && (rule.StartTime != nil || rule.EndTime != nil) {
		return nil, false
	}
	c := *rule
	c.PlanWindows = ws
	return &c, true
}

// Windows are the windows of the plan tasks of project (never nil).
func Windows(tasks []recording.PlanTask, project string) []recording.TimeWindow {
	ws := make([]recording.TimeWindow, 0, len(tasks))
	for _, t := range tasks {
		if t.Project == project {
			ws = append(ws, recording.TimeWindow{Start: t.StartTime, End: t.EndTime})
		}
	}
	return ws
}

// onDemandURL picks the on-demand URL of the stream's callback configuration, "" when none.
func (d *Decider) onDemandURL(ctx context.Context, project string, r Request) string {
	cs, err := d.Callbacks.CallbacksForStream(ctx, r.Domain)
	if err != nil {
		if d.Logger != nil {
			d.Logger.Error("look up on-demand URL", "err", err)
		}
		return ""
	}
	c := recording.MatchCallback(cs, project, r.Domain, r.App,
		func(c *recording.CallbackConfig) bool { return c.OnDemandURL != "" })
	if c == nil {
		return ""
	}
	return c.OnDemandURL
}

func (d *Decider) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// failedReason is the reason of a decision the business server did not give: an *Error says
// so itself; other errors are prefixed to say it.
func failedReason(err error) string {
	if oe := (*Error)(nil); errors.As(err, &oe) {
		return err.Error()
	}
	return "on-demand decision failed: " + err.Error()
}
