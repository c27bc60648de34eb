"""Layer specs, the summary worked out without TensorFlow, the preset architectures, upload checks."""
