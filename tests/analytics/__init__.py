"""Tests of the analytics slice (issue 24)."""
