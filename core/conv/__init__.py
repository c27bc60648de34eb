"""Convolution and pooling in NumPy, kernels, shape chains, and the playground's link format."""
