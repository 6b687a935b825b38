"""Datasets and input pipelines: CIFAR-10 (TFDS or python pickles), Penn Treebank, and the
embedded synthetic image and text datasets that need no download."""
