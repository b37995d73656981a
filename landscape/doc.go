// Package landscape is lsweep's library front door: it joins a model, a
// dataset, ONNX Runtime and a pair of directions into a function of two
// coordinates, loss(th + a*x + b*y), that package sweep evaluates over a
// grid.
//
// Open loads everything a landscape needs (the model and its weights, the
// data, an engine.Evaluator, and the directions: random and normalised, the
// difference towards other models, or read from a file) and returns a
// Landscape, which is a sweep.Evaluator (OpenModel takes a model already
// loaded). Defaults of the directions are applied there, once: filter
// normalisation, biases and BatchNorm left out, and with Model2 the
// BatchNorm statistics moved too. Package pipeline runs a landscape end to
// end, as the command line does. Identity lists what determines the
// values (file hashes, seed and normalisation), for a sweep's manifest.
// With Config.Tolerance a point's loss is estimated on a prefix of one
// seeded order of the samples (engine.Evaluator.EvaluateSequential).
package landscape
