"""The committee's dashboard: a unit's overview for a year and an indicator's page."""
