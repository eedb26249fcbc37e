package app

import "runtime/debug"

// version reports the module version shopguard was built as ("devel" for
// a source checkout).
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
