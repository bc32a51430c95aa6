"""The artifact store: path safety (``paths``), storage backends over fsspec (``storage``).

Nothing is re-exported here so that the SDK can check artifact names with ``paths`` without importing fsspec.
"""
