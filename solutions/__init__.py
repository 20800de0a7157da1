"""Reference implementations (instructor-side only).

These modules are the oracle where torch has no equivalent and the model answers
for the exercise notebooks; they are never shipped to students.
"""

from .optimizers import Adagrad, RMSprop, Adadelta, Adam, AdamW

__all__ = ["Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"]
