"""twinaudit: train the same network in PyTorch and Keras 3 under proven-identical settings,
then audit both twins side by side.

Importing this package imports no deep-learning framework: torch and TensorFlow are imported
lazily, at the point of use, so ``twinaudit --help`` and the spec/gate tooling stay fast.
"""

from twinaudit.errors import TwinauditError

__version__ = "0.1.0"

__all__ = ["TwinauditError", "__version__"]
