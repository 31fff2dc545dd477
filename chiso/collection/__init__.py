"""The reporting cycle (data sets, submissions, templates, DHIS2) and data quality.

The approval lock on values is installed by `chiso.boot.boot()` (it calls
`chiso.collection.service.register_write_guard()`), never by importing this package.
"""
