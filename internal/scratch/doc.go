// Package scratch names the large temporary files a run keeps beside its
// output folder (a large model's patched weights, random directions being
// written) so that those of a run that was killed can be found and removed:
// each name holds the host and the process that made it, and Create first
// removes the files of its kind that a process of this host made and that
// is no longer running. Files of other hosts (shards sharing a folder over
// a network file system) and of running processes are never touched.
package scratch
