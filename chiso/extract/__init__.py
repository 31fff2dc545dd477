"""From documents to data: read a plan, resolution or report in Vietnamese, propose its
targets, values, ranks and tasks, and write what an officer accepts through the normal
services (docs/extract.md)."""
