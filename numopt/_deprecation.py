"""Keeping a renamed keyword argument working for a deprecation period."""
import warnings

__all__ = ["renamed_keyword"]

_UNSET = object()


def renamed_keyword(new_value, old_value, new, old, default, func, stacklevel=3):
    """Value of a keyword renamed from ``old`` to ``new``.

    ``old_value`` is what the caller passed under the old name (``_UNSET``
    when not given): it is used with a :class:`DeprecationWarning`; passing
    both names (the new one differing from its ``default``) is a TypeError.

    Examples
    --------
    >>> import warnings
    >>> from numopt._deprecation import renamed_keyword
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     renamed_keyword(0.0, 0.5, "l2", "reg", 0.0, "f")
    0.5
    >>> w[0].category.__name__
    'DeprecationWarning'
    """
    if old_value is _UNSET:
        return new_value
    if new_value is not default and new_value != default:
        raise TypeError(f"{func}() got both `{new}` and its deprecated name `{old}`")
    warnings.warn(f"{func}(): `{old}` is deprecated, use `{new}` instead", DeprecationWarning,
                  stacklevel=stacklevel)
    return old_value
