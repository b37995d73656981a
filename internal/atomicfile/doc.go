// Package atomicfile writes files so that a reader sees the old file or the
// new one, never a part.
//
// WriteFile and Write write to a temporary file in the target's folder,
// named "." + the target's base name + ".*.tmp" with a random number for
// the "*", sync it, give it its permissions, close it and rename it onto
// the target; then they sync the folder, so that the rename survives a
// crash. On any failure before the rename the temporary file is removed
// and a file already at the target is left as it was. WriteNew does the
// same but never replaces a file. A write killed before it could clean up
// leaves its temporary file; RemoveTemps removes such files.
//
// The permissions given are set as they are, not masked by the umask. A
// caller that wants a replaced file to keep its permissions passes
// KeepPerm(path, perm).
package atomicfile
