package recording

import "strings"

// MatchRule returns the rule that records the stream (domain, app, stream), or nil. The
// precedence is a total order: an exact domain beats "*", then an exact app beats "*", then an
// exact stream beats "*"; so (a.com,*,*) beats (*,live,test). Keys are unique within a project;
// should two projects hold the same key, the earlier one in rules wins (the store lists rules in
// creation order, so the first project to configure a key keeps it). The result points into
// rules.
func MatchRule(rules []Rule, domain, app, stream string) *Rule {
	var best *Rule
	bestScore := -1
	for i := range rules {
		r := &rules[i]
		score, ok := matchScore(r, domain, app, stream)
		if ok && score > bestScore {
			best, bestScore = r, score
		}
	}
	return best
}

// matchScore ranks a matching rule: the domain weighs more than the app and the stream together,
// and the app more than the stream, which makes the order lexicographic.
func matchScore(r *Rule, domain, app, stream string) (int, bool) {
	score := 0
	switch {
	case strings.EqualFold(r.Domain, domain):
		score += 4
	case r.Domain != Wildcard:
		return 0, false
	}
	switch {
	case r.App == app:
		score += 2
	case r.App != Wildcard:
		return 0, false
	}
	switch {
	case r.Stream == stream:
		score++
	case r.Stream != Wildcard && r.Stream != "":
		return 0, false
	}
	return score, true
}
