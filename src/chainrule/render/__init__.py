"""Renderers: pure functions from a result to text.  None of them prints."""
