"""Example data shipped with ethicsgate (``ethicsgate examples``): seeded, with known violations."""
