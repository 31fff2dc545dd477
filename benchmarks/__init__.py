"""chiso's benchmarks (`chiso bench …`), outside the runtime package: each times chiso
against a straightforward pandas version of the same computation (and DuckDB SQL where an
expert would pick it), on the same data, in one process (DESIGN §7). Installed with the
`bench` extra (`pip install -e '.[bench]'`), which brings pandas and httpx; the runtime
imports neither."""
