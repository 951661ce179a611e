"""The whole site placed in time: the model and its indexes, the URL layout, every output file planned."""
