// Command shopguard is a self-hosted security service for online shops.
// See the README and `shopguard --help`.
package main

import (
	"os"

	"github.com/shopguard/shopguard/internal/cli"
)

func main() { os.Exit(cli.Main()) }
