"""Benchmarks of musicapi_async against the emulator: ``python -m benchmarks``.

Speed and economy are measured here, as ratios against a baseline in the same run, and
never asserted in tests.
"""
