// Package render draws loss landscapes: pictures of loss surfaces and loss
// curves good enough to go into a paper as they are, and ParaView files for
// the pictures it does not draw itself.
//
// The package knows nothing of how a surface is computed. Surfaces enter
// through gonum's plotter.GridXYZ: Z(c, r) is the loss at x = X(c), y = Y(r),
// so columns run along the horizontal axis and rows along the vertical one,
// everywhere in this package. NaN marks a point that was not computed; it is
// drawn as a gap (in its own colour, hatched by default), never as a value,
// and no contour line passes through a cell that has a NaN corner. An
// infinite value is treated like NaN. Curves enter as Curve values, with
// NaN likewise a gap in the line. Eigenvalue densities enter as two slices,
// eigenvalues and densities (what hessian.Density.Curve returns), NaN again
// a gap.
//
// Each picture kind is a struct whose exported fields are filled with
// documented defaults by its constructor, and which draws itself onto a
// gonum draw.Canvas:
//
//	Contour        contour lines in the colours of a palette, labelled with their levels
//	FilledContour  bands between levels filled with palette colours, with a colour bar
//	HeatMap        one colour per grid point, with a colour bar
//	Surface        a shaded 3-D surface seen from an azimuth and an elevation
//	Curves         loss and accuracy against one coordinate, several curves overlaid
//	Density        a Hessian's eigenvalue density against the eigenvalue, on a log scale
//
// All of them implement Drawer, and Save writes any Drawer as PNG, SVG or PDF
// according to the file name's extension. WriteVTP writes a surface as VTK
// XML PolyData for ParaView.
//
// Colours come from palette.ColorMap values; Viridis (the default), Magma,
// Inferno, Plasma and Cividis are perceptually uniform maps built here by
// interpolating between anchor colours of the published maps. Contour levels
// are chosen by AutoLevels (round numbers, or log-spaced ones when the data
// span more than two decades) unless the caller sets them, for example with
// Levels or StepLevels.
package render
