package progress

// SetTerminal makes r draw a bar as on a terminal of the given width.
func SetTerminal(r *Reporter, width int) {
	r.term, r.width = true, width
}
