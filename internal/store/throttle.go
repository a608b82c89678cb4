package store

import (
	"context"
	"time"
)

// AuthFailure is what one throttle instance (one per process run and throttle) counted of
// one subject: an address or an access key id, as the throttle names them.
type AuthFailure struct {
	Subject string
	// Failures is the count in the instance's current window, which ends at WindowEnd.
	Failures  int
	WindowEnd time.Time
	// CooldownUntil, when not zero, is the end of the subject's cool-down on the instance.
	// Its Failures then count no more: the count starts afresh after a cool-down.
	CooldownUntil time.Time
}

// AuthFailureTotal is a subject's standing across every instance of a scope.
type AuthFailureTotal struct {
	Subject string
	// Failures adds up the counts whose window is open and that are not cooling down.
	Failures int
	// CooldownUntil is the latest cool-down still running on an instance; zero when none.
	CooldownUntil time.Time
}

// AuthFailures shares the failed-authentication throttles' counts between the nodes of a
// deployment, so that a client spreading its guesses over the nodes is counted once. Every
// driver implements it beside Store, and storetest.Exercise covers it. A scope is one
// throttle of the app (its counts never mix with another's); times come from the nodes'
// clocks, which must agree (NTP).
type AuthFailures interface {
	// AuthFailuresPut writes instance's counts in scope, each replacing what instance wrote
	// before for its subject (for a subject listed twice, the last wins).
	AuthFailuresPut(ctx context.Context, scope, instance string, counts []AuthFailure) error
	// AuthFailuresHot returns, by subject, up to maxSubjects subjects of scope that at now
	// cool down on some instance, or whose open, not cooling counts add up to atLeast.
	AuthFailuresHot(ctx context.Context, scope string, now time.Time, atLeast, maxSubjects int) ([]AuthFailureTotal, error)
	// AuthFailuresPrune deletes the counts of scope whose window and cool-down were over by
	// now.
	AuthFailuresPrune(ctx context.Context, scope string, now time.Time) error
}
