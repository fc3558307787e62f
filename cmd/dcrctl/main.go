// Command dcrctl registers and maintains a private_key_jwt OAuth client at
// its IdP. See README.md.
package main

import (
	"os"

	"github.com/dcrctl/dcrctl/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
