"""Helpers the operators, transfers, sensor and trigger share: listings, formats, storage, progress, mixins."""
