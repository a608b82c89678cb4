package recording

import "strings"

// MatchCallback returns the callback configuration that serves the stream's project, domain and
// app, or nil: an exact domain beats the catch-all domain "*", then an exact app beats
// "*", and of two equal matches the earlier one in cs wins (the store lists configurations in creation order). Only configurations for which use
// returns true take part (nil: all), so a configuration without the URL the caller needs never
// hides one that has it. The result points into cs.
func MatchCallback(cs []CallbackConfig, project, domain, app string, use func(*CallbackConfig) bool) *CallbackConfig {
	var best *CallbackConfig
	for i := range cs {
		c := &cs[i]
		if !callbackMatches(c, project, domain, app, use) {
			continue
		}
		if prefer(best, c, domain, app) {
			best = c
		}
	}
	return best
}

// MatchCallbacks returns MatchCallback's choice for each dialect, in the order the dialects first
// match in cs: a stream's events go to one configuration per dialect. The results point
// into cs.
func MatchCallbacks(cs []CallbackConfig, project, domain, app string, use func(*CallbackConfig) bool) []*CallbackConfig {
	var best []*CallbackConfig
	for i := range cs {
		c := &cs[i]
		if !callbackMatches(c, project, domain, app, use) {
			continue
		}
		j := 0
		for j < len(best) && best[j].Dialect != c.Dialect {
			j++
		}
		switch {
		case j == len(best):
			best = append(best, c)
		case prefer(best[j], c, domain, app):
			best[j] = c
		}
	}
	return best
}

// callbackMatches tells whether c may serve the stream: same project, the same domain or "*",
// the same app or "*", and wanted by use.
func callbackMatches(c *CallbackConfig, project, domain, app string, use func(*CallbackConfig) bool) bool {
	return c.Project == project && (strings.EqualFold(c.Domain, domain) || c.Domain == Wildcard) &&
		(c.App == app || c.App == Wildcard) && (use == nil || use(c))
}

// prefer tells whether c, later in the list, replaces best as the match: only a more exact
// configuration does (an exact domain first, then an exact app).
func prefer(best, c *CallbackConfig, domain, app string) bool {
	return best == nil || exactness(c, domain, app) > exactness(best, domain, app)
}

// exactness ranks how exactly c names the stream's domain and app.
func exactness(c *CallbackConfig, domain, app string) int {
	n := 0
	if c.Domain != Wildcard || domain == Wildcard {
		n += 2
	}
	if c.App == app {
		n++
	}
	return n
}
