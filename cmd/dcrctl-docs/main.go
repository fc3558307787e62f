// Command dcrctl-docs writes dcrctl's man pages, one per command, from the
// command tree itself (`make man`), so they never disagree with --help.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/dcrctl/dcrctl/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dcrctl-docs DIR")
		os.Exit(64)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(73)
	}
	root := cli.NewApp(os.Stdin, io.Discard, io.Discard).RootCmd()
	root.DisableAutoGenTag = true // reproducible pages
	header := &doc.GenManHeader{Title: "DCRCTL", Section: "1", Source: "dcrctl", Manual: "dcrctl manual"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
