"""Image datasets for ENAS: CIFAR-10 (TFDS or python pickles) and an embedded synthetic task."""
