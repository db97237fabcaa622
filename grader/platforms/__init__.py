"""Exports for the places courses already work: a Gradescope autograder bundle, a Canvas grades CSV."""


class PlatformError(ValueError):
    """A problem the user can fix (wrong course folder, unknown assignment...); one sentence."""
