package engine

// requireRuntime is RequireRuntime for the external test package.
var requireRuntime = RequireRuntime
