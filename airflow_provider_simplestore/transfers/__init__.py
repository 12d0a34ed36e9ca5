"""Transfers: SimpleStore listings to storage files and to SQL tables."""
