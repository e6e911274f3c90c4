package simulator

// TEMPORARY: replaced by the model files' own tables.
var (
	mongoParameters   []paramDef
	elasticParameters []paramDef
	logsParameters    []paramDef
	s3Parameters      []paramDef
)
