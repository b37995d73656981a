// Package loss computes the mean loss and accuracy of a model's outputs
// against labels, for every kind of output head an exporter produces: logits
// (softmax cross-entropy), log-probabilities (negative log-likelihood),
// probabilities (-log p), a single sigmoid probability or logit (binary
// cross-entropy) and regression outputs (mean squared error).
//
// Sums are kept in float64 whatever the output type, so that the mean over a
// large dataset does not depend on the batch size.
package loss
