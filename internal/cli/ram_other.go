//go:build !linux

package cli

// totalRAM returns 0: the memory limit is left to GOMEMLIMIT off Linux.
func totalRAM() int64 { return 0 }
