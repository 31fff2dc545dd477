"""The one store for files (evidence, generated reports) and, for the records store, the
place its Parquet files are published to when servers share nothing but the database.

Use `save`, `open_file` and `exists` (chiso/storage/service.py); send a file with
`chiso.storage.responses.file_response`. Where files live is `CHISO_FILE_STORE`.
"""

from chiso.storage.service import (
    MissingFile,
    StoredFile,
    check_upload,
    exists,
    open_file,
    read_bytes,
    save,
    store_path,
)

__all__ = ["MissingFile", "StoredFile", "check_upload", "exists", "open_file", "read_bytes",
           "save",
           "store_path"]
