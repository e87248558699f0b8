"""The DeepILST networks: features, training, persistence (see :mod:`deepilst.model.core`)."""
