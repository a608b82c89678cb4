package recording

// Native defaults (§3 "Native").
const (
	// DefaultProject is the project of the default rule and of the bootstrap access key.
	DefaultProject = "default"
	// DefaultEndpoint is the built-in local storage endpoint.
	DefaultEndpoint = "local"
	// DefaultBucket is the bucket of the default rule.
	DefaultBucket = "recordings"
	// DefaultFileTemplate names FLV and MP4 files and HLS playlists.
	DefaultFileTemplate = "record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"
	// DefaultSliceTemplate names HLS slices.
	DefaultSliceTemplate = "record/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}"

	defaultCycleS      = 3600
	defaultHLSCycleS   = 21600
	defaultSliceS      = 10
	defaultMergeWindow = 30
)

// DefaultFormatConfig returns the native defaults of format f: a cycle of 3600 s (21600 s for
// HLS), slices of 10 s, a merge window of 30 s and the default templates. The native API starts
// from it so that a field the client leaves out gets its default while an explicit 0 (no cycle,
// no merge window) is kept.
func DefaultFormatConfig(f Format) FormatConfig {
	fc := FormatConfig{
		Format:         f,
		CycleS:         defaultCycleS,
		MergeWindowS:   defaultMergeWindow,
		ObjectTemplate: DefaultFileTemplate,
	}
	if f == FormatHLS {
		fc.CycleS = defaultHLSCycleS
		fc.SliceS = defaultSliceS
		fc.SliceTemplate = DefaultSliceTemplate
	}
	return fc
}

// DefaultRule returns the rule a fresh data dir holds: any domain, app and stream recorded
// automatically to FLV, MP4 and HLS in the local bucket "recordings". ID and times are left for
// the store to set.
func DefaultRule() Rule {
	return Rule{
		Project: DefaultProject,
		Dialect: DialectNative,
		Domain:  Wildcard,
		App:     Wildcard,
		Stream:  Wildcard,
		Mode:    ModeAuto,
		Formats: []FormatConfig{
			DefaultFormatConfig(FormatFLV),
			DefaultFormatConfig(FormatMP4),
			DefaultFormatConfig(FormatHLS),
		},
		Storage: Storage{Endpoint: DefaultEndpoint, Bucket: DefaultBucket},
	}
}
