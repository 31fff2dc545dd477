"""The export feed for the systems above the province (an IOC, the national NQ 57
monitoring system), and centrally assigned tasks read from a spreadsheet (docs/exchange.md)."""
