"""The Keras 3 implementation of a twin: layers, the twin, its Adam, gradients."""
