"""Build, reason over, validate, query and export the karabakh-kg dataset."""
