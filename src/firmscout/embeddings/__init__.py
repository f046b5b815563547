"""Dense embeddings for hybrid retrieval: the optional `[semantic]` extra.

Only `availability`, `text` and `fusion` import nothing heavy; `encoder` and `index` need numpy (and
torch / sentence-transformers for encoding), so callers import them only once `semantic_installed()`.
"""
