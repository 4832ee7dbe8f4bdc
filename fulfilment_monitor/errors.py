"""The one error type a user sees: a clear, one-line reason and a non-zero exit."""


class UserError(Exception):
    """Bad use or bad input that stops a command; its message is the whole story."""


class DropRejected(UserError):
    """A drop failed a drop-level check; nothing of it was loaded."""
