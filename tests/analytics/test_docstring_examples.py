"""The examples in the docstrings of analytics/ and surveys/ are part of the documentation:
they must run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import analytics
import surveys

MODULES = [
    f"{package.__name__}.{info.name}"
    for package in (analytics, surveys)
    for info in pkgutil.iter_modules(package.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
