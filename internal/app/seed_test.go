package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store/sqldb"
)

// TestAFailedFirstStartStillSeedsTheDefaultRule is defect 5 of the hardening issue: a first
// start that failed after creating the database file (0 bytes, or migrated without the default
// rule) must not leave a data dir that records nothing; and a seeded one is never seeded again.
func TestAFailedFirstStartStillSeedsTheDefaultRule(t *testing.T) {
	t.Parallel()
	for name, prepare := range map[string]func(t *testing.T, db string){
		"EmptyFile": func(t *testing.T, db string) {
			require.NoError(t, os.WriteFile(db, nil, 0o644))
		},
		"MigratedOnly": func(t *testing.T, db string) {
			s, err := sqldb.OpenSQLite(t.Context(), db)
			require.NoError(t, err)
			require.NoError(t, s.Close())
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := t.TempDir()
			prepare(t, filepath.Join(data, "liverec.db"))
			ta := startAppIn(t, data, "", "10s")
			rules, err := ta.store.RulesForStream(t.Context(), "127.0.0.1")
			require.NoError(t, err)
			def := recording.MatchRule(rules, "127.0.0.1", "live", "cam")
			require.NotNil(t, def, "the default rule records every stream")
			require.Equal(t, recording.Wildcard, def.Domain)

			// The operator deletes it; a restart does not bring it back.
			require.NoError(t, ta.store.RuleDelete(t.Context(), def.Project, def.ID))
			ta.stop(t)
			ta = startAppIn(t, data, "", "10s")
			rules, err = ta.store.RulesForStream(t.Context(), "127.0.0.1")
			require.NoError(t, err)
			require.Empty(t, rules)
		})
	}
}
