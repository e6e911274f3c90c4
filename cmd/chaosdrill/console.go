package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

// console is where a rehearsal talks with its engineer: lines out, lines
// in. On a terminal it is a prompt with the clock, line editing, history
// and Tab completion (golang.org/x/term's Terminal: the Go project's own,
// already in the module graph, and it redraws the prompt under what is
// printed while the engineer types); otherwise plain lines, so that a
// rehearsal can be scripted through a pipe.
type console interface {
	// Printf prints one line (format has no trailing newline), above the
	// prompt on a terminal. Safe from any goroutine.
	Printf(format string, args ...any)
	// Lines delivers each line typed, in order; it is closed at the end
	// of input. A line that could not be read comes with its error.
	Lines() <-chan inputLine
	// SetStatus sets the prompt (a terminal's; plain lines have none).
	SetStatus(prompt string)
	// SetCompleter sets what Tab completes with (a terminal's).
	SetCompleter(complete func(line string, pos int) (string, int, bool))
	// Scripted reports whether the input is a script (not a terminal).
	Scripted() bool
	// Close gives the terminal back as it was and stops reading. Safe to
	// call more than once.
	Close()
}

// openConsole opens a terminal console when in and the standard output are
// both terminals, else a plain one writing to out.
func openConsole(ctx context.Context, in io.Reader, out io.Writer) (console, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) && term.IsTerminal(int(os.Stdout.Fd())) {
		return openTerminal(f, os.Stdout)
	}
	return newPlainConsole(in, out), nil
}

// maxInputLine is the longest line a console takes, in bytes (newline
// not counted): longer than any command, and bounded so that a script
// cannot fill memory with one line.
const maxInputLine = 64 << 10

// inputLine is one line of input: its text and its number (from 1), or why
// it could not be taken. A line over maxInputLine is refused (err set,
// and the reading goes on with the next line); any other read error is
// fatal: nothing more can be read, and the rehearsal must not take it for
// the end of the input.
type inputLine struct {
	text  string
	n     int
	err   error
	fatal bool
}

// plainConsole reads lines and writes lines.
type plainConsole struct {
	mu    sync.Mutex
	out   io.Writer
	lines chan inputLine
	done  chan struct{}
	once  sync.Once
}

func newPlainConsole(in io.Reader, out io.Writer) *plainConsole {
	c := &plainConsole{out: out, lines: make(chan inputLine), done: make(chan struct{})}
	go c.read(in)
	return c
}

// read delivers the lines of in until its end, or until the console is
// closed (a reader blocked on a read that never ends stays until the
// process exits: a terminal's standard input). A read error is delivered,
// never taken for the end of the input.
func (c *plainConsole) read(in io.Reader) {
	defer close(c.lines)
	lines := newLineReader(in, maxInputLine)
	for {
		line, ok := lines.next()
		if !ok || !deliver(c.lines, c.done, line) {
			return
		}
	}
}

// lineReader splits input into lines of at most max bytes: a longer line
// is skipped to its newline and delivered as an error naming its number.
type lineReader struct {
	r   *bufio.Reader
	max int
	n   int
}

func newLineReader(in io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(in, 4096), max: max}
}

// next returns the next line, or false at the end of the input (a last
// line without a newline is a line).
func (l *lineReader) next() (inputLine, bool) {
	var buf []byte
	long := false
	for {
		chunk, err := l.r.ReadSlice('\n')
		if !long {
			if len(buf)+len(chunk) > l.max+1 { // +1: the newline
				long, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(buf) == 0 && !long:
			return inputLine{}, false
		case err != nil && err != io.EOF:
			l.n++
			return inputLine{n: l.n, fatal: true, err: fmt.Errorf("reading line %d of the input: %w", l.n, err)}, true
		}
		l.n++
		if long {
			return inputLine{n: l.n, err: fmt.Errorf("line %d is longer than %d bytes: refused, not carried out", l.n, l.max)}, true
		}
		text := strings.TrimSuffix(strings.TrimSuffix(string(buf), "\n"), "\r")
		if len(text) > l.max {
			return inputLine{n: l.n, err: fmt.Errorf("line %d is longer than %d bytes: refused, not carried out", l.n, l.max)}, true
		}
		return inputLine{text: text, n: l.n}, true
	}
}

func (c *plainConsole) Printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, format+"\n", args...)
}

func (c *plainConsole) Lines() <-chan inputLine { return c.lines }
func (c *plainConsole) Scripted() bool          { return true }
func (c *plainConsole) SetStatus(string)        {}
func (c *plainConsole) SetCompleter(func(string, int) (string, int, bool)) {
}
func (c *plainConsole) Close() { c.once.Do(func() { close(c.done) }) }

// terminalConsole is a prompt on a terminal in raw mode (with signals kept
// on, so Ctrl-C still interrupts the command).
type terminalConsole struct {
	t       *term.Terminal
	restore func()
	lines   chan inputLine
	done    chan struct{}
	once    sync.Once
}

func openTerminal(in, out *os.File) (*terminalConsole, error) {
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	keepSignals(in)
	c := &terminalConsole{
		t: term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{in, out}, "> "),
		restore: func() { _ = term.Restore(int(in.Fd()), state) },
		lines:   make(chan inputLine),
		done:    make(chan struct{}),
	}
	if w, h, err := term.GetSize(int(out.Fd())); err == nil {
		_ = c.t.SetSize(w, h)
	}
	go c.read()
	return c, nil
}

// read delivers the lines typed until Ctrl-D (io.EOF) or until the console
// is closed; any other read error is delivered, never taken for the end of
// the input. (The terminal itself takes at most 4096 characters a line.)
func (c *terminalConsole) read() {
	defer close(c.lines)
	for n := 1; ; n++ {
		text, err := c.t.ReadLine()
		line := inputLine{text: text, n: n}
		switch {
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			line = inputLine{n: n, fatal: true, err: fmt.Errorf("reading from the terminal: %w", err)}
		}
		if !deliver(c.lines, c.done, line) {
			return
		}
	}
}

// deliver hands a console's reader line to the rehearsal, and reports
// whether to read on: not once the console is closed (done), nor after a
// fatal read error.
func deliver(lines chan<- inputLine, done <-chan struct{}, line inputLine) bool {
	select {
	case lines <- line:
	case <-done:
		return false
	}
	return !line.fatal
}

func (c *terminalConsole) Printf(format string, args ...any) {
	_, _ = c.t.Write([]byte(escapeTerminal(fmt.Sprintf(format, args...)) + "\n"))
}

func (c *terminalConsole) Lines() <-chan inputLine { return c.lines }
func (c *terminalConsole) Scripted() bool          { return false }

func (c *terminalConsole) SetStatus(prompt string) {
	c.t.SetPrompt(prompt)
	_, _ = c.t.Write(nil) // redraws the prompt with the new clock
}

func (c *terminalConsole) SetCompleter(complete func(string, int) (string, int, bool)) {
	c.t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		if key != '\t' {
			return "", 0, false
		}
		return complete(line, pos)
	}
}

func (c *terminalConsole) Close() {
	c.once.Do(func() {
		close(c.done)
		_, _ = c.t.Write([]byte("\n"))
		c.restore()
	})
}
