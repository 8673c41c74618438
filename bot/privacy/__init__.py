"""Personal data: redaction before anything is stored, and salted hashes of ids."""
