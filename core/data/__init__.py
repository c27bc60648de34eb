"""Datasets: readers, statistics, normalisation, labels, sampling and augmentation."""
