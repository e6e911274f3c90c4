package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Phases of a command, in order. Each one stops within moments of an
// interrupt (SIGINT, SIGTERM): loading checks the context as it decodes,
// the simulator every few thousand events, report writing every buffer;
// model construction and report building are bounded by the scenario
// limits.
const (
	phaseLoad     = "load"     // reading and validating the scenario
	phaseBuild    = "build"    // constructing the platform's models
	phaseSimulate = "simulate" // the event loop
	phaseReport   = "report"   // building the report from the run
	phaseWrite    = "write"    // writing report files (phaseWrite+":"+file after each)
)

// phaseHookKey carries, in a command's context, a phaseHook told as each
// phase begins: the specs use it to interrupt a command in a chosen phase.
type phaseHookKey struct{}

// phaseHook is told the command's context and the phase that begins.
type phaseHook func(ctx context.Context, phase string)

// enterPhase tells the phase hook, if any, that phase begins, and returns
// the context's error if the command has been interrupted.
func enterPhase(ctx context.Context, phase string) error {
	if hook, ok := ctx.Value(phaseHookKey{}).(phaseHook); ok {
		hook(ctx, phase)
	}
	return ctx.Err()
}

// hookedPlatform tells the phase hook when the simulation starts; it
// changes nothing else.
type hookedPlatform struct {
	platform.Platform
	ctx context.Context
}

func (p hookedPlatform) Loop() platform.Loop { return hookedLoop{p.Platform.Loop(), p.ctx} }

type hookedLoop struct {
	platform.Loop
	ctx context.Context
}

func (l hookedLoop) Run(ctx context.Context, until time.Duration) error {
	if err := enterPhase(l.ctx, phaseSimulate); err != nil {
		return err
	}
	return l.Loop.Run(ctx, until)
}

// terminalWriter escapes what could act on a terminal instead of being
// shown: C0 control characters other than newline and tab (ESC starts
// colour and cursor sequences, CR overwrites a line, BEL rings, NUL
// vanishes), DEL, and the C1 controls that some terminals obey (U+0080 to
// U+009F). Names in scenario files are checked, but a stored report, an
// error from the environment or a file name may hold anything.
type terminalWriter struct{ w io.Writer }

func (t terminalWriter) Write(p []byte) (int, error) {
	if !needsEscape(p) {
		return t.w.Write(p)
	}
	if _, err := io.WriteString(t.w, escapeTerminal(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

func needsEscape(p []byte) bool {
	for i, c := range p {
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || (c == 0xc2 && i+1 < len(p) && p[i+1] >= 0x80 && p[i+1] <= 0x9f) {
			return true
		}
	}
	return false
}

// escapeTerminal writes control characters as \xNN (C1 as \u00NN); newline
// and tab stay.
func escapeTerminal(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
