// Package report writes the report of a run as one self-contained HTML
// file: its title, a few summary lines, the pictures drawn elsewhere, an
// interactive view of the surface and the run's manifest as a table.
//
// The page works offline and loads nothing: its style sheet, its script,
// its data and its pictures are all inside the file, and a
// Content-Security-Policy forbids any other source. The surface is
// embedded as JSON in a <script type="application/json"> block, with NaN
// and infinite values written as null. The page's script draws a 2-D
// surface as a 3-D mesh in WebGL, written for this package without a
// library: coloured by value in the colour map of the pictures
// (Report.ColorMap, viridis by default), lit, in a box with ticks,
// rotated by dragging and zoomed by the wheel or a pinch, with a log scale
// and a clip value. Quads with a point not computed are left out. It draws a
// 1-D curve as an SVG line chart of its first two channels ("loss" first).
// A browser without WebGL shows a message in place of the 3-D view; the
// rest of the page does not need it, nor does the manifest table need
// JavaScript.
//
// The page reports on itself for tests: once drawn, the body's
// data-lsweep-status attribute is "ok", "no-webgl", or "error: " and the
// messages of errors thrown, console errors and policy violations. Opened
// with the fragment #lsweep-selftest, the page also reads its 3-D view back
// and sets data-lsweep-colors to the number of distinct colours in it,
// data-lsweep-triangles to the number of triangles drawn and
// data-lsweep-canvas to the canvas's place in the page, "left,top,width,height"
// in CSS pixels; a chart sets data-lsweep-points to the number of points
// of its first channel drawn.
package report
