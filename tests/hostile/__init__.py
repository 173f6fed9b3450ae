"""A corpus of broken and hostile inputs, made in code (see ``corpus.py``)."""
