"""Analytics: roll-up over units and time through lineage, target status, projection.

Pure functions over Polars frames (`lineage`, `rollup`, `status`, `projection`), a loader
(`frames`) and one service (`service`) that the web, CLI and reports call.
"""
