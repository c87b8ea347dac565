"""Coding drills: specs, starter code, reference solutions and hidden tests, as data."""
