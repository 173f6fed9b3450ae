"""The command line (``python -m cli parks|targets|zonestats``): a room above ``reports``.

May import core, layers, geodata, indicators and reports (it writes tables through reports);
never ui or pages, and nothing imports it. It used to be ``indicators/__main__.py``, which made
indicators → reports → indicators a circle; ``python -m indicators`` still works and hands over
to ``python -m cli`` (a new process, not an import).
"""
