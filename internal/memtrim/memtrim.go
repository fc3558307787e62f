// Package memtrim hands memory a long-running dcrctl does not need while
// idle back to the OS: the run's garbage, and the executable's pages that
// startup and a maintenance run touched.
//
// Why the second: Linux maps file pages around each one touched
// (fault-around, 64 KiB), so running every package's init and one
// bootstrap leaves about 15 MiB of a 25 MiB binary resident although an
// idle `dcrctl run` executes a few hundred KiB of it.
package memtrim

import "runtime/debug"

// Release frees the heap's garbage to the OS and drops the executable's
// clean pages (Linux; elsewhere only the heap). It returns how many bytes
// of mappings were released.
func Release() (int, error) {
	debug.FreeOSMemory()
	return releaseCode()
}
