//go:build linux || darwin || freebsd || netbsd || openbsd

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// keepSignals turns the terminal's signal keys back on after term.MakeRaw
// turned them off, so that Ctrl-C interrupts a rehearsal as it does every
// other command (exit 3, nothing written) instead of reaching the prompt.
func keepSignals(in *os.File) {
	termios, err := unix.IoctlGetTermios(int(in.Fd()), ioctlGetTermios)
	if err != nil {
		return
	}
	termios.Lflag |= unix.ISIG
	_ = unix.IoctlSetTermios(int(in.Fd()), ioctlSetTermios, termios)
}
