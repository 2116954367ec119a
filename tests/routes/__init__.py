"""Access-matrix registrations, one module per feature (see tests/access_matrix.py)."""
