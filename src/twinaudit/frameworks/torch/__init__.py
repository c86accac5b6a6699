"""The PyTorch implementation of a twin: layers, the twin, gradients, thread control."""
