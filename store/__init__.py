"""Second Self encrypted memory store: SQLCipher database, vector index, sealing."""
