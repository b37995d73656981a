// Package loss computes the mean loss and accuracy of a model's outputs
// against labels, for every kind of output head an exporter produces: logits
// (softmax cross-entropy), log-probabilities (negative log-likelihood),
// probabilities (-log p), a single sigmoid probability or logit (binary
// cross-entropy), regression outputs (mean squared error) and token logits
// [N, T, V] against token labels [N, T] (the mean cross-entropy over the
// labelled tokens, with PyTorch's ignore index and an optional shift by one
// position, as causal language models are trained).
//
// Sums are kept in float64 whatever the output type, so that the mean over a
// large dataset does not depend on the batch size; token losses are summed
// with their counts, so that the mean is over the dataset's labelled tokens
// rather than a mean of batch means.
package loss
