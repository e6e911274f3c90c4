//go:build linux || darwin || freebsd || netbsd || openbsd

package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/creack/pty"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
	"golang.org/x/sys/unix"
)

// The terminal console, as an engineer at a keyboard meets it: the binary
// runs on a pseudo-terminal (its standard input and output both a
// terminal, as the console asks), and the spec types on the other side.
var _ = Describe("rehearse at a terminal", Ordered, func() {
	var binary string
	BeforeAll(func() {
		var err error
		binary, err = gexec.Build("github.com/chaosdrill/chaosdrill/cmd/chaosdrill")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
	})

	It("prompts with the clock, completes an action, its parameter and a value with Tab, and on Ctrl-C exits 3 with nothing written and the terminal given back", func() {
		dir := GinkgoT().TempDir()
		before := entries(dir)
		ptmx, tty, err := pty.Open()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ptmx.Close)
		DeferCleanup(tty.Close)
		Expect(pty.Setsize(ptmx, &pty.Winsize{Rows: 50, Cols: 240})).To(Succeed())
		modes, err := unix.IoctlGetTermios(int(tty.Fd()), ioctlGetTermios)
		Expect(err).NotTo(HaveOccurred())

		// Speed 1: the fault (10-15 min in) is far off for the whole spec.
		cmd := exec.Command(binary, "rehearse", library("east-region-outage"), "--speed", "1", "--history", filepath.Join(dir, "rehearsals"))
		cmd.Dir = dir
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		// Its own session with the terminal as the controlling one, so
		// that Ctrl-C reaches it as SIGINT, as in a shell.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		Expect(cmd.Start()).To(Succeed())
		exited := make(chan int, 1)
		go func() {
			err := cmd.Wait()
			var exit *exec.ExitError
			switch {
			case err == nil:
				exited <- 0
			case errors.As(err, &exit):
				exited <- exit.ExitCode()
			default:
				exited <- -1
			}
		}()
		DeferCleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				<-exited
			}
		})
		screen := gbytes.NewBuffer()
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := ptmx.Read(buf)
				_, _ = screen.Write(buf[:n])
				if err != nil {
					return
				}
			}
		}()
		typeKeys := func(keys string) {
			GinkgoHelper()
			_, err := ptmx.Write([]byte(keys))
			Expect(err).NotTo(HaveOccurred())
		}

		Eventually(screen, time.Minute).Should(gbytes.Say("You will be told when each step is due"))
		// The prompt: the scenario clock, its end and the steps due.
		Eventually(screen, 30*time.Second).Should(gbytes.Say(`\[[0-9.]+m?s/[0-9hms.]+, 0 due\] > `))

		typeKeys("roles.re\t")
		Eventually(screen, 30*time.Second).Should(gbytes.Say(`roles\.rebuild `), "the action's name completed")
		typeKeys("ro\t")
		Eventually(screen, 30*time.Second).Should(gbytes.Say(`roles\.rebuild role=`), "its parameter")
		typeKeys("el\t")
		Eventually(screen, 30*time.Second).Should(gbytes.Say(`roles\.rebuild role=elasticsearch `), "a role of the topology")

		typeKeys("\x03")
		Eventually(exited, time.Minute).Should(Receive(Equal(exitEnvironment)))
		Expect(entries(dir)).To(Equal(before), "nothing written")
		after, err := unix.IoctlGetTermios(int(tty.Fd()), ioctlGetTermios)
		Expect(err).NotTo(HaveOccurred())
		Expect([]uint64{uint64(after.Iflag), uint64(after.Oflag), uint64(after.Lflag)}).To(Equal([]uint64{uint64(modes.Iflag), uint64(modes.Oflag), uint64(modes.Lflag)}),
			"the terminal is given back as it was (echo, line editing)")
	})
})
