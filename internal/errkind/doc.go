// Package errkind makes errors that have their own message yet match a
// sentinel error, and the error that caused them, with errors.Is.
//
// Packages npz and dataset use it for their errors: the message says what
// went wrong in the file at hand, and the sentinel (npz.ErrFormat,
// dataset.ErrShape, ...) says what kind of failure it is.
package errkind
