"""Errors every part of the grading package may raise, in a module that imports nothing of the package."""


class UsageError(Exception):
    """Bad input from the instructor: reported as one line, exit status 2."""
