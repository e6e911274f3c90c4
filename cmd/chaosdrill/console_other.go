//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package main

import "os"

// keepSignals does nothing where the terminal's modes are not termios.
func keepSignals(*os.File) {}
