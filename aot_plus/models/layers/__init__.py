"""Layers of the AOT-family networks: attention primitives, LSTT blocks, GPM layers, position embeddings."""
