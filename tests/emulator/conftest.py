"""Fixtures of the emulator's tests (helpers in harness.py)."""

from __future__ import annotations

import pytest

from harness import Launcher


@pytest.fixture
def emulator():
    launcher = Launcher()
    try:
        yield launcher
    finally:
        launcher.stop()


@pytest.fixture
def sagemaker(emulator):
    return emulator.client()


@pytest.fixture(scope="module")
def shared_emulator():
    """One emulator for a whole test module: its tests use names of their own."""
    launcher = Launcher()
    try:
        yield launcher
    finally:
        launcher.stop()
