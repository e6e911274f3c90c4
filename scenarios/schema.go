package scenarios

import (
	"bytes"
	_ "embed"
)

//go:embed schema.json
var schemaJSON []byte

// JSONSchema returns the JSON Schema (draft 2020-12) of the scenario format,
// the one editors use through `# yaml-language-server: $schema=schema.json`.
// It checks the shape of a file; Load also checks what the schema cannot
// (names that must exist in the topology, triggers, times).
func JSONSchema() []byte { return bytes.Clone(schemaJSON) }
