package reports

// SetUnpackedChunks makes l keep n chunks of completed writes unpacked
// instead of UnpackedChunks, so that specs of a few thousand writes see
// the packed form (n = 0: every chunk is packed as soon as it completes).
func SetUnpackedChunks(l *Ledger, n int) {
	l.unpacked, l.unpackedSet = n, true
}
