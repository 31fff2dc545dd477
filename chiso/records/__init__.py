"""One-stop dossier records (hồ sơ TTHC một cửa) and the public-service indicators computed
from them. Raw records live in a columnar store (Parquet under the data dir, queried with
DuckDB); SQL holds the procedure catalogue, the batch log and the computed data values."""
