// Package files reads and writes chaosdrill's own files defensively: it
// reads only regular files, and only up to a size limit (a FIFO or
// /dev/zero named as a scenario must fail at once, not block or fill
// memory); it writes a set of files into a folder atomically (each file
// is written in full into a temporary folder beside them and renamed into
// place, so that a reader never sees a torn file and an interrupted write
// leaves nothing new); and it locks an output folder so that two runs
// cannot write into it at once.
//
// It is internal: the scenario loader, the report reader and writer and
// the CLI share it, and nothing else should need it.
package files
