package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
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
	// Lines delivers each line typed; it is closed at the end of input.
	Lines() <-chan string
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

// plainConsole reads lines and writes lines.
type plainConsole struct {
	mu    sync.Mutex
	out   io.Writer
	lines chan string
	done  chan struct{}
	once  sync.Once
}

func newPlainConsole(in io.Reader, out io.Writer) *plainConsole {
	c := &plainConsole{out: out, lines: make(chan string), done: make(chan struct{})}
	go c.read(in)
	return c
}

// read delivers the lines of in until its end, or until the console is
// closed (a reader blocked on a read that never ends stays until the
// process exits: a terminal's standard input).
func (c *plainConsole) read(in io.Reader) {
	defer close(c.lines)
	scanner := bufio.NewScanner(in)
	for scanner.Scan() {
		select {
		case c.lines <- scanner.Text():
		case <-c.done:
			return
		}
	}
}

func (c *plainConsole) Printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, format+"\n", args...)
}

func (c *plainConsole) Lines() <-chan string { return c.lines }
func (c *plainConsole) Scripted() bool       { return true }
func (c *plainConsole) SetStatus(string)     {}
func (c *plainConsole) SetCompleter(func(string, int) (string, int, bool)) {
}
func (c *plainConsole) Close() { c.once.Do(func() { close(c.done) }) }

// terminalConsole is a prompt on a terminal in raw mode (with signals kept
// on, so Ctrl-C still interrupts the command).
type terminalConsole struct {
	t       *term.Terminal
	restore func()
	lines   chan string
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
		lines:   make(chan string),
		done:    make(chan struct{}),
	}
	if w, h, err := term.GetSize(int(out.Fd())); err == nil {
		_ = c.t.SetSize(w, h)
	}
	go c.read()
	return c, nil
}

func (c *terminalConsole) read() {
	defer close(c.lines)
	for {
		line, err := c.t.ReadLine()
		if err != nil {
			return
		}
		select {
		case c.lines <- line:
		case <-c.done:
			return
		}
	}
}

func (c *terminalConsole) Printf(format string, args ...any) {
	_, _ = c.t.Write([]byte(escapeTerminal(fmt.Sprintf(format, args...)) + "\n"))
}

func (c *terminalConsole) Lines() <-chan string { return c.lines }
func (c *terminalConsole) Scripted() bool       { return false }

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
