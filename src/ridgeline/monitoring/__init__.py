"""Pure numerics over tabular data: column profiles now, drift statistics and performance metrics later.

No I/O and no framework imports beyond numpy: callers hand in columns as arrays.
"""
