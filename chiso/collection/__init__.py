"""The reporting cycle (data sets, submissions, templates, DHIS2) and data quality."""
