// Package progress reports how far long work has come: points done of a
// total, points per second and the time left, as one self-rewriting bar
// line on a terminal or as a plain line every few seconds in a log.
//
// A Reporter has the methods Start, Step and Finish that sweep.Run calls
// (sweep.Progress); the package does not import sweep. The rate and the
// time left count only the work done since Start, so a resumed run that
// starts with some points done does not seem faster than it is.
package progress
