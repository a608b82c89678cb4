package recording

import "strings"

// MatchCallback returns the callback configuration that serves the stream's project, domain and
// app, or nil (§5, §7): an exact app beats "*", and of two equal matches the earlier one in cs
// wins (the store lists configurations in creation order). Only configurations for which use
// returns true take part (nil: all), so a configuration without the URL the caller needs never
// hides one that has it. The result points into cs.
func MatchCallback(cs []CallbackConfig, project, domain, app string, use func(*CallbackConfig) bool) *CallbackConfig {
	var best *CallbackConfig
	for i := range cs {
		c := &cs[i]
		if !callbackMatches(c, project, domain, app, use) {
			continue
		}
		if prefer(best, c, app) {
			best = c
		}
	}
	return best
}

// MatchCallbacks returns MatchCallback's choice for each dialect, in the order the dialects first
// match in cs: a stream's events go to one configuration per dialect (§7). The results point
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
		case prefer(best[j], c, app):
			best[j] = c
		}
	}
	return best
}

// callbackMatches tells whether c may serve the stream: same project and domain, the same app
// or "*", and wanted by use.
func callbackMatches(c *CallbackConfig, project, domain, app string, use func(*CallbackConfig) bool) bool {
	return c.Project == project && strings.EqualFold(c.Domain, domain) && (c.App == app || c.App == Wildcard) &&
		(use == nil || use(c))
}

// prefer tells whether c, later in the list, replaces best as the match for app: only an
// exact app replaces "*".
func prefer(best, c *CallbackConfig, app string) bool {
	return best == nil || (best.App != app && c.App == app)
}
